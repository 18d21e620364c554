/// Just enough of an ELF file to refuse what is not a shared object before `dlopen` sees it,
/// and to tell a Swift image (never to be `dlclose`d) from a plain C one.
///
/// Every field is untrusted: offsets are read as unsigned 64-bit numbers and range-checked with
/// overflow-safe arithmetic before anything is indexed, so a corrupt file is refused, never a
/// crash.
struct ELFImage {
    let isSwift: Bool

    /// Reads the ELF header and section names of `bytes`; throws with what is wrong.
    init(_ bytes: [UInt8]) throws(LoadError) {
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "L"),
            bytes[3] == UInt8(ascii: "F")
        else { throw .notSharedObject("not an ELF file") }
        guard bytes[4] == 2 else { throw .notSharedObject("not a 64-bit ELF file") }
        guard bytes[5] == 1 else { throw .notSharedObject("not a little-endian ELF file") }
        let reader = Reader(bytes: bytes)
        guard reader.u16(16) == 3 else { throw .notSharedObject("ELF type \(reader.u16(16) ?? 0) is not ET_DYN (a shared library)") }
        let machine = reader.u16(18) ?? 0
        #if arch(x86_64)
        guard machine == 62 else { throw .notSharedObject("built for ELF machine \(machine), not x86_64") }
        #elseif arch(arm64)
        guard machine == 183 else { throw .notSharedObject("built for ELF machine \(machine), not aarch64") }
        #endif
        isSwift = try Self.hasSwiftSections(reader)
    }

    /// Whether any section name starts with `swift5_` (Swift metadata).
    private static func hasSwiftSections(_ reader: Reader) throws(LoadError) -> Bool {
        let truncated = LoadError.notSharedObject("section headers lie outside the file (truncated or corrupt)")
        guard let tableOffset = reader.u64(0x28), let entrySize = reader.u16(0x3A), let count = reader.u16(0x3C),
            let namesIndex = reader.u16(0x3E)
        else { throw truncated }
        if tableOffset == 0 || count == 0 { return false }  // stripped of section headers
        guard entrySize >= 64, namesIndex < count, reader.offset(tableOffset, plus: count * entrySize) != nil else {
            throw truncated
        }
        let namesHeader = tableOffset + namesIndex * entrySize
        guard let namesOffset = reader.u64(namesHeader + 0x18), let namesSize = reader.u64(namesHeader + 0x20),
            let namesEnd = reader.offset(namesOffset, plus: namesSize)
        else { throw truncated }
        let prefix = Array("swift5_".utf8)
        for index in 0..<count {
            guard let nameOffset = reader.u32(tableOffset + index * entrySize),
                let nameStart = reader.offset(namesOffset, plus: nameOffset),
                let nameEnd = reader.offset(nameStart, plus: UInt64(prefix.count)), nameEnd <= namesEnd
            else { continue }
            if reader.bytes[Int(nameStart)..<Int(nameEnd)].elementsEqual(prefix) { return true }
        }
        return false
    }

    /// Little-endian reads that answer nil past the end instead of trapping.
    private struct Reader {
        let bytes: [UInt8]

        /// `base + length` if the whole range lies within the file.
        func offset(_ base: UInt64, plus length: UInt64) -> UInt64? {
            let (end, overflow) = base.addingReportingOverflow(length)
            return !overflow && end <= UInt64(bytes.count) ? end : nil
        }

        private func read(_ at: UInt64, _ size: UInt64) -> UInt64? {
            guard offset(at, plus: size) != nil else { return nil }
            var value: UInt64 = 0
            for k in (0..<Int(size)).reversed() { value = value << 8 | UInt64(bytes[Int(at) + k]) }
            return value
        }

        func u16(_ at: UInt64) -> UInt64? { read(at, 2) }
        func u32(_ at: UInt64) -> UInt64? { read(at, 4) }
        func u64(_ at: UInt64) -> UInt64? { read(at, 8) }
    }
}
