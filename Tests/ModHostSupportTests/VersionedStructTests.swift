import Glibc
import ModHostSupport
import Testing

/// `VersionedStruct` reads a struct another binary built against an older or newer header.
@Suite struct VersionedStructTests {
    /// Stands for a C struct of a newer minor: the header, two 1.0 fields, one field of 1.1.
    struct Wide: Equatable {
        var abiVersion: UInt32
        var structSize: UInt32
        var first: UInt64
        var second: UInt64
        var added: UInt64
    }

    /// An older build's struct: the header and the two 1.0 fields, ending right before a page
    /// that is not mapped. Copying a whole `Wide` from it would fault.
    @Test func copiesOnlyTheBytesTheOtherSideBuilt() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(pages != MAP_FAILED)
        defer { munmap(pages, 2 * page) }
        #expect(mprotect(pages + page, page, PROT_NONE) == 0)
        let old = pages + page - 24
        old.storeBytes(of: 0x0001_0000 as UInt32, as: UInt32.self)
        old.storeBytes(of: 24 as UInt32, toByteOffset: 4, as: UInt32.self)
        old.storeBytes(of: 7 as UInt64, toByteOffset: 8, as: UInt64.self)
        old.storeBytes(of: 9 as UInt64, toByteOffset: 16, as: UInt64.self)

        let header = VersionedStruct.header(at: old)
        #expect(header == VersionedStruct.Header(abiVersion: 0x0001_0000, size: 24))
        #expect(header.versionText == "1.0")
        let copy = VersionedStruct.copy(Wide.self, from: old, size: header.size)
        #expect(copy == Wide(abiVersion: 0x0001_0000, structSize: 24, first: 7, second: 9, added: 0))
        #expect(VersionedStruct.covers(\Wide.second, size: header.size))
        #expect(!VersionedStruct.covers(\Wide.added, size: header.size))
        #expect(VersionedStruct.end(of: \Wide.added) == 32)
    }

    /// A newer build's struct is longer: its extra bytes are not read, and our fields are all there.
    @Test func ignoresFieldsOfANewerMinor() {
        var bytes = [UInt8](repeating: 0xAB, count: 48)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: 0x0001_0007 as UInt32, as: UInt32.self)
            raw.storeBytes(of: 48 as UInt32, toByteOffset: 4, as: UInt32.self)
        }
        let copy = bytes.withUnsafeBytes { VersionedStruct.copy(Wide.self, from: $0.baseAddress!, size: 48) }
        #expect(copy.structSize == 48)
        #expect(copy.added == 0xABAB_ABAB_ABAB_ABAB)
        #expect(VersionedStruct.versionText(0x0001_0007) == "1.7")
        // A struct_size smaller than the header (a broken one) copies what it claims, no more.
        let tiny = bytes.withUnsafeBytes { VersionedStruct.copy(Wide.self, from: $0.baseAddress!, size: 4) }
        #expect(tiny == Wide(abiVersion: 0x0001_0007, structSize: 0, first: 0, second: 0, added: 0))
    }
}
