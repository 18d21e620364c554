import Foundation

/// Just enough of an ELF file to refuse what is not a shared object before `dlopen` sees it,
/// and to tell a Swift image (never to be `dlclose`d) from a plain C one.
///
/// It reads only the ELF header, the section-header table and the section-name table, through a
/// descriptor with `pread`, each read bounded: a huge file that is not ELF is refused after 64
/// bytes. Every field is untrusted: offsets are read as unsigned 64-bit numbers and range-checked
/// with overflow-safe arithmetic before anything is read, so a corrupt file is refused, never a
/// crash.
struct ELFImage {
    let isSwift: Bool

    /// The most the section-header table or the section-name table may take: real ones are a
    /// few KiB; a larger claim is a corrupt file, not a reason to read it.
    static let maxTableBytes: UInt64 = 4 << 20

    /// Reads the ELF header and section names of the open file `fd` of `size` bytes.
    init(fd: Int32, size: UInt64) throws(LoadError) {
        try self.init(source: Source(size: size) { offset, count throws(LoadError) in
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
                if read < 0 && errno == EINTR { continue }
                guard read > 0 else {
                    throw read == 0
                        ? .notSharedObject("the file ended while its ELF headers were read (truncated, or changed while loading)")
                        : .unreadable(String(cString: strerror(errno)))
                }
                done += read
            }
            return bytes
        })
    }

    /// Reads the ELF header and section names of `bytes` (a whole file, for tests).
    init(_ bytes: [UInt8]) throws(LoadError) {
        try self.init(source: Source(size: UInt64(bytes.count)) { offset, count in
            Array(bytes[Int(offset)..<Int(offset) + count])
        })
    }

    private init(source: Source) throws(LoadError) {
        guard source.size >= 64 else { throw .notSharedObject("not an ELF file") }
        let header = Reader(bytes: try source.read(0, 64))
        guard header.bytes[0] == 0x7F, header.bytes[1] == UInt8(ascii: "E"), header.bytes[2] == UInt8(ascii: "L"),
            header.bytes[3] == UInt8(ascii: "F")
        else { throw .notSharedObject("not an ELF file") }
        guard header.bytes[4] == 2 else { throw .notSharedObject("not a 64-bit ELF file") }
        guard header.bytes[5] == 1 else { throw .notSharedObject("not a little-endian ELF file") }
        guard header.u16(16) == 3 else { throw .notSharedObject("ELF type \(header.u16(16) ?? 0) is not ET_DYN (a shared library)") }
        let machine = header.u16(18) ?? 0
        #if arch(x86_64)
        guard machine == 62 else { throw .notSharedObject("built for ELF machine \(machine), not x86_64") }
        #elseif arch(arm64)
        guard machine == 183 else { throw .notSharedObject("built for ELF machine \(machine), not aarch64") }
        #endif
        isSwift = try Self.hasSwiftSections(header, source)
    }

    /// Whether any section name starts with `swift5_` (Swift metadata).
    private static func hasSwiftSections(_ header: Reader, _ source: Source) throws(LoadError) -> Bool {
        let truncated = LoadError.notSharedObject("section headers lie outside the file (truncated or corrupt)")
        guard let tableOffset = header.u64(0x28), let entrySize = header.u16(0x3A), let count = header.u16(0x3C),
            let namesIndex = header.u16(0x3E)
        else { throw truncated }
        if tableOffset == 0 || count == 0 { return false }  // stripped of section headers
        let tableSize = count * entrySize
        guard entrySize >= 64, namesIndex < count, source.contains(tableOffset, tableSize) else { throw truncated }
        guard tableSize <= maxTableBytes else {
            throw .notSharedObject("its section-header table claims \(tableSize) bytes, more than the \(maxTableBytes) a real one takes (corrupt)")
        }
        let table = Reader(bytes: try source.read(tableOffset, Int(tableSize)))
        let namesHeader = namesIndex * entrySize
        guard let namesOffset = table.u64(namesHeader + 0x18), let namesSize = table.u64(namesHeader + 0x20),
            source.contains(namesOffset, namesSize)
        else { throw truncated }
        guard namesSize <= maxTableBytes else {
            throw .notSharedObject("its section-name table claims \(namesSize) bytes, more than the \(maxTableBytes) a real one takes (corrupt)")
        }
        let names = Reader(bytes: try source.read(namesOffset, Int(namesSize)))
        let prefix = Array("swift5_".utf8)
        for index in 0..<count {
            guard let nameStart = table.u32(index * entrySize), let nameEnd = names.offset(nameStart, plus: UInt64(prefix.count))
            else { continue }
            if names.bytes[Int(nameStart)..<Int(nameEnd)].elementsEqual(prefix) { return true }
        }
        return false
    }

    /// Where the bytes come from: a file of `size` bytes, read in bounded ranges.
    private struct Source {
        let size: UInt64
        /// Reads exactly `count` bytes at `offset` (callers check the range first).
        let readRange: (UInt64, Int) throws(LoadError) -> [UInt8]

        init(size: UInt64, _ readRange: @escaping (UInt64, Int) throws(LoadError) -> [UInt8]) {
            self.size = size
            self.readRange = readRange
        }

        /// Whether `length` bytes at `base` lie within the file.
        func contains(_ base: UInt64, _ length: UInt64) -> Bool {
            let (end, overflow) = base.addingReportingOverflow(length)
            return !overflow && end <= size
        }

        func read(_ offset: UInt64, _ count: Int) throws(LoadError) -> [UInt8] {
            try readRange(offset, count)
        }
    }

    /// Little-endian reads within one buffer that answer nil past its end instead of trapping.
    private struct Reader {
        let bytes: [UInt8]

        /// `base + length` if the whole range lies within the buffer.
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
