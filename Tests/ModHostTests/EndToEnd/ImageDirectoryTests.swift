import Foundation
import ModHostTestKit
import Testing

/// The private copies the host maps: each host's `modhost-images-*` directory is locked while
/// it lives and removed by the next host once it is gone, even after `kill -9`; and each copy is
/// named after its file and generation, so a backtrace names them.
@Suite struct ImageDirectoryTests {
    private func imageDirectories(in temporary: String) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: temporary).filter { $0.hasPrefix("modhost-images-") })
    }

    /// Whether some process holds the lock of an image directory (a non-blocking `flock` fails).
    private func isLocked(_ directory: String) throws -> Bool {
        let fd = open("\(directory)/lock", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0, "\(directory) has no lock file")
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    private func startHost(tmpdir: String) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let host = try HostProcess(plugins: plugins, environment: ["TMPDIR": tmpdir])
        #expect(try host.call("p1.ping") == "pong")
        return host
    }

    @Test func aKilledHostsDirectoryIsRemovedByTheNextStartAndALiveOnesIsNot() throws {
        let temporary = try TemporaryDirectory.make(prefix: "modhost-tmp")
        let killed = try startHost(tmpdir: temporary)
        let killedDirectory = try #require(try imageDirectories(in: temporary).first)
        killed.signal(SIGKILL)
        #expect(try killed.waitForExit() == SIGKILL)
        #expect(try imageDirectories(in: temporary) == [killedDirectory], "kill -9 leaves the directory (nothing ran)")

        let second = try startHost(tmpdir: temporary)
        let secondDirectories = try imageDirectories(in: temporary)
        #expect(!secondDirectories.contains(killedDirectory), "the dead host's directory should be gone")
        #expect(secondDirectories.count == 1)
        let secondDirectory = try #require(secondDirectories.first)
        #expect(try isLocked("\(temporary)/\(secondDirectory)"))
        try second.waitForStderr(containing: "removed \(FileOwnership.resolved(temporary))/\(killedDirectory), left by a host that is gone")

        // A third host leaves the live second host's directory alone.
        let third = try startHost(tmpdir: temporary)
        #expect(try imageDirectories(in: temporary).count == 2)
        #expect(try imageDirectories(in: temporary).contains(secondDirectory))
        #expect(try second.call("modules.load", ["path": .string(TestPlugins.probe(into: TestPlugins.directory(), id: "p2"))])["id"] == "p2")
        #expect(try second.shutdown() == 0)
        #expect(try third.shutdown() == 0)
        #expect(try imageDirectories(in: temporary).isEmpty, "a clean shutdown removes its own directory")
    }

    /// The sweep never follows a symbolic link, nor removes what it cannot lock.
    @Test func theSweepFollowsNoLinksAndKeepsWhatItCannotLock() throws {
        let temporary = try TemporaryDirectory.make(prefix: "modhost-tmp")
        let elsewhere = try TemporaryDirectory.make()
        try "".write(toFile: "\(elsewhere)/lock", atomically: false, encoding: .utf8)
        try "keep".write(toFile: "\(elsewhere)/precious", atomically: false, encoding: .utf8)
        try FileOwnership.symlink(elsewhere, at: "\(temporary)/modhost-images-link")
        let unlocked = try FileOwnership.mkdir("\(temporary)/modhost-images-nolock", 0o700)
        try "keep".write(toFile: "\(unlocked)/1-libx.so.g1", atomically: false, encoding: .utf8)

        let host = try startHost(tmpdir: temporary)
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).sorted() == ["lock", "precious"])
        #expect(try imageDirectories(in: temporary).isSuperset(of: ["modhost-images-link", "modhost-images-nolock"]))
        #expect(FileManager.default.fileExists(atPath: "\(unlocked)/1-libx.so.g1"))
        #expect(try host.shutdown() == 0)
    }

    /// An empty directory without a lock, from a host of before locks, goes once it is a minute
    /// old; a fresh one (a host starting this moment) stays.
    @Test func anOldEmptyDirectoryWithoutALockIsRemoved() throws {
        let temporary = try TemporaryDirectory.make(prefix: "modhost-tmp")
        let old = try FileOwnership.mkdir("\(temporary)/modhost-images-old", 0o700)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -120)], ofItemAtPath: old)
        _ = try FileOwnership.mkdir("\(temporary)/modhost-images-fresh", 0o700)
        let host = try startHost(tmpdir: temporary)
        let left = try imageDirectories(in: temporary)
        #expect(!left.contains("modhost-images-old"))
        #expect(left.contains("modhost-images-fresh"))
        #expect(try host.shutdown() == 0)
    }

    /// A temporary directory others could rename things in is refused: the host does not start.
    @Test func aTemporaryDirectoryWritableByOthersIsRefused() throws {
        let open = try FileOwnership.mkdir("\(try TemporaryDirectory.make())/open", 0o777)
        let host = try HostProcess(plugins: try TestPlugins.directory(), environment: ["TMPDIR": open])
        #expect(try host.waitForExit() == 1)
        #expect(host.stderrText.contains(
            "cannot start: refusing the temporary directory for plugin images (TMPDIR): \(FileOwnership.resolved(open)) is writable by anyone (mode 0777) without the sticky bit: chmod o-w"),
            "\(host.stderrText)")
        #expect(try imageDirectories(in: open).isEmpty)
    }

    /// Private copies are named `<n>-<file name>.g<generation>`: a fresh load, a swap, a load
    /// again after an unload, and a Swift plugin, as `/proc/<pid>/maps` shows them.
    @Test func copiesCarryTheFileNameAndGeneration() throws {
        let plugins = try TestPlugins.directory()
        let v1 = try TestPlugins.counter(into: plugins, version: 1, defines: ["-DSWAP_FLAGS=0"])
        let v2 = try TestPlugins.counter(into: plugins, version: 2, defines: ["-DSWAP_FLAGS=0"])
        let probe = try TestPlugins.probe(into: plugins, id: "p1")
        let calc = try TestPlugins.swiftPlugin("libCalc.so", into: plugins)
        let host = try HostProcess(plugins: try TestPlugins.directory())

        func mapped(_ suffix: String) throws -> Bool {
            try HostProcStatus.mappedFiles(of: host).contains { $0.contains("-\(suffix) (deleted)") || $0.hasSuffix("-\(suffix)") }
        }
        #expect(try host.call("modules.load", ["path": .string(v1)])["generation"] == 1)
        #expect(try mapped("libcounter-v1.so.g1"))
        #expect(try host.call("modules.swap", ["id": "counter", "path": .string(v2)])["generation"] == 2)
        #expect(try mapped("libcounter-v2.so.g2"))

        #expect(try host.call("modules.load", ["path": .string(probe)])["generation"] == 1)
        #expect(try mapped("libp1.so.g1"))
        try host.call("modules.unload", ["id": "p1"])
        #expect(try !mapped("libp1.so.g1"), "an unloadable C image is unmapped")
        #expect(try host.call("modules.load", ["path": .string(probe)])["generation"] == 2)
        #expect(try mapped("libp1.so.g2"), "the loader predicts the generation from the module last loaded from the file")

        #expect(try host.call("modules.load", ["path": .string(calc)])["generation"] == 1)
        #expect(try mapped("libCalc.so.g1"))
        #expect(try host.shutdown() == 0)
    }
}
