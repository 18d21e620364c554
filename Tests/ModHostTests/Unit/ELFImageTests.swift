import Foundation
import ModHostTestKit
@testable import ModHost
import Testing

/// The loader's ELF checks on real and deliberately corrupted files: refused, never a crash.
@Suite struct ELFImageTests {
    /// The C example, built fresh.
    static func echoBytes() throws -> [UInt8] {
        let directory = try TemporaryDirectory.make()
        let output = "\(directory)/libecho.so"
        try PluginBuilder.buildC(source: TestPlugins.echoSource, output: output)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    static func put(_ value: UInt64, at offset: Int, size: Int, in bytes: inout [UInt8]) {
        for k in 0..<size { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
    }

    @Test func tellsCFromSwiftImages() throws {
        #expect(try ELFImage(Self.echoBytes()).isSwift == false)
        let calc = try HostProcess.buildDirectory().appendingPathComponent("libCalc.so")
        #expect(try ELFImage([UInt8](Data(contentsOf: calc))).isSwift == true)
    }

    @Test func refusesWhatIsNotASharedLibrary() {
        #expect(throws: LoadError.self) { try ELFImage(Array("#!/bin/sh\necho hi\n".utf8)) }
        #expect(throws: LoadError.self) { try ELFImage([0x7F, 0x45, 0x4C, 0x46]) }
    }

    @Test func corruptSectionTableIsRefusedNotACrash() throws {
        let good = try Self.echoBytes()
        var farTable = good
        Self.put(0x7FFF_FFFF_FFFF_FFF0, at: 0x28, size: 8, in: &farTable)  // e_shoff near Int.max
        #expect(throws: LoadError.self) { try ELFImage(farTable) }

        var negativeNames = good
        let tableOffset = Int(good[0x28]) | Int(good[0x29]) << 8 | Int(good[0x2A]) << 16 | Int(good[0x2B]) << 24
        let entrySize = Int(good[0x3A]) | Int(good[0x3B]) << 8
        let namesIndex = Int(good[0x3E]) | Int(good[0x3F]) << 8
        Self.put(0xFFFF_FFFF_FFFF_FF00, at: tableOffset + namesIndex * entrySize + 0x18, size: 8, in: &negativeNames)
        #expect(throws: LoadError.self) { try ELFImage(negativeNames) }

        var truncated = good
        truncated.removeLast(truncated.count / 2)
        #expect(throws: LoadError.self) { try ELFImage(truncated) }
    }

    /// Through a descriptor, reading only the headers, the answers are the same.
    @Test func readsThroughADescriptor() throws {
        func throughDescriptor(_ path: String) throws -> Bool {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            try #require(fd >= 0)
            defer { close(fd) }
            var info = stat()
            fstat(fd, &info)
            return try ELFImage(fd: fd, size: UInt64(info.st_size)).isSwift
        }
        let directory = try TemporaryDirectory.make()
        try PluginBuilder.buildC(source: TestPlugins.echoSource, output: "\(directory)/libecho.so")
        #expect(try throughDescriptor("\(directory)/libecho.so") == false)
        #expect(try throughDescriptor(HostProcess.buildDirectory().appendingPathComponent("libCalc.so").path) == true)

        let huge = "\(directory)/huge"
        let fd = open(huge, O_RDWR | O_CREAT, 0o600)
        defer { close(fd) }
        ftruncate(fd, 2 << 30)
        #expect(throws: LoadError.self) { try ELFImage(fd: fd, size: 2 << 30) }
        // A header claiming a table past what is there is refused, not read.
        var header = try Self.echoBytes().prefix(64).map { $0 }
        Self.put(1 << 40, at: 0x28, size: 8, in: &header)
        pwrite(fd, header, 64, 0)
        #expect(throws: LoadError.self) { try ELFImage(fd: fd, size: 2 << 30) }
    }
}
