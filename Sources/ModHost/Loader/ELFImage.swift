/// Just enough of an ELF file to refuse what is not a shared object before `dlopen` sees it,
/// and to tell a Swift image (never to be `dlclose`d) from a plain C one.
struct ELFImage {
    let isSwift: Bool

    /// Reads the ELF header and section names of `bytes`; throws with what is wrong.
    init(_ bytes: [UInt8]) throws(LoadError) {
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "L"),
            bytes[3] == UInt8(ascii: "F")
        else { throw .notSharedObject("not an ELF file") }
        guard bytes[4] == 2 else { throw .notSharedObject("not a 64-bit ELF file") }
        guard bytes[5] == 1 else { throw .notSharedObject("not a little-endian ELF file") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        guard u16(16) == 3 else { throw .notSharedObject("ELF type \(u16(16)) is not ET_DYN (a shared library)") }
        #if arch(x86_64)
        guard u16(18) == 62 else { throw .notSharedObject("built for ELF machine \(u16(18)), not x86_64") }
        #elseif arch(arm64)
        guard u16(18) == 183 else { throw .notSharedObject("built for ELF machine \(u16(18)), not aarch64") }
        #endif

        // Section names: a Swift image carries swift5_* metadata sections.
        let sectionOffset = u64(0x28)
        let entrySize = u16(0x3A)
        let count = u16(0x3C)
        let namesIndex = u16(0x3E)
        var swift = false
        if sectionOffset > 0, entrySize >= 64, namesIndex < count, sectionOffset + count * entrySize <= bytes.count {
            let namesHeader = sectionOffset + namesIndex * entrySize
            let namesOffset = u64(namesHeader + 0x18)
            let namesSize = u64(namesHeader + 0x20)
            if namesOffset + namesSize <= bytes.count {
                let prefix = Array("swift5_".utf8)
                for index in 0..<count {
                    let nameStart = namesOffset + u32(sectionOffset + index * entrySize)
                    guard nameStart + prefix.count <= namesOffset + namesSize else { continue }
                    if Array(bytes[nameStart..<nameStart + prefix.count]) == prefix {
                        swift = true
                        break
                    }
                }
            }
        } else if sectionOffset != 0 {
            throw .notSharedObject("section headers lie outside the file (truncated?)")
        }
        isSwift = swift
    }
}
