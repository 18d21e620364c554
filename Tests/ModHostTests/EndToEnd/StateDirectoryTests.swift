import Foundation
import ModHostTestKit
import Testing

/// The state directory is checked like the plugin directory: a host refuses to start (one line
/// on stderr, exit status 1, nothing touched) on one that others can write or that is not its
/// user's, and on a database reached through a symbolic link; what it creates is private.
@Suite struct StateDirectoryTests {
    /// Starts a host on `state`, which must refuse to start, and returns its stderr.
    private func expectRefusedToStart(state: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let host = try HostProcess(plugins: try TestPlugins.directory(), state: state)
        #expect(try host.waitForExit() == 1, sourceLocation: sourceLocation)
        let lines = host.stderrText.split(separator: "\n").filter { $0.contains("critical") }
        #expect(lines.count == 1, "one line should say why: \(host.stderrText)", sourceLocation: sourceLocation)
        return String(lines.first ?? "")
    }

    @Test func groupWritableStateDirectoryIsRefused() throws {
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        try FileOwnership.chmod(state, 0o770)
        let line = try expectRefusedToStart(state: state)
        #expect(line.contains("refusing the state directory \(state): \(FileOwnership.resolved(state)) is group-writable (mode 0770): chmod g-w"), "\(line)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).isEmpty, "nothing may be created in it")
    }

    @Test func stateDirectoryOfAnotherUserIsRefused() throws {
        try FileOwnership.requireRoot()
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        try FileOwnership.chown(state, uid: try FileOwnership.nobody.uid)
        let line = try expectRefusedToStart(state: state)
        #expect(line.contains("is owned by nobody (uid \(try FileOwnership.nobody.uid)), not by root: use a state directory only you can write (--state-dir)"), "\(line)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).isEmpty)
    }

    @Test func stateDirectoryUnderAWorldWritableDirectoryIsRefused() throws {
        let open = try FileOwnership.mkdir("\(try TemporaryDirectory.make())/open", 0o777)
        let line = try expectRefusedToStart(state: "\(open)/state")
        #expect(line.contains("\(FileOwnership.resolved(open)) is writable by anyone (mode 0777) without the sticky bit: chmod o-w"), "\(line)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty, "nothing may be created under it")
    }

    /// A symbolic link where the database or a companion file would be is refused, and what it
    /// points to is left exactly as it was.
    @Test(arguments: ["", "-wal", "-shm"])
    func databaseThroughASymbolicLinkIsRefused(suffix: String) throws {
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        let elsewhere = "\(try TemporaryDirectory.make())/precious"
        try "precious bytes".write(toFile: elsewhere, atomically: false, encoding: .utf8)
        let link = "\(state)/default.sqlite\(suffix)"
        try FileOwnership.symlink(elsewhere, at: link)
        let line = try expectRefusedToStart(state: state)
        #expect(line.contains("refusing to open the store: \(link) is a symbolic link"), "\(line)")
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "precious bytes")
    }

    /// A state directory the host makes (with its parents) is 0700, the database and its WAL
    /// files 0600, the modules' data directories 0700, whatever the umask.
    @Test func whatTheHostCreatesIsPrivate() throws {
        let root = try TemporaryDirectory.make()
        let state = "\(root)/a/b/state"
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let host = try HostProcess(plugins: plugins, state: state)
        #expect(try host.call("p1.store_put", ["key": "k", "value": "v"]) == true)

        for directory in ["\(root)/a", "\(root)/a/b", state, "\(state)/data", "\(state)/data/default", "\(state)/data/default/p1"] {
            #expect(FileOwnership.mode(directory) == 0o700, "\(directory) has mode \(String(FileOwnership.mode(directory), radix: 8))")
        }
        for file in ["default.sqlite", "default.sqlite-wal", "default.sqlite-shm"] {
            let mode = FileOwnership.mode("\(state)/\(file)")
            #expect(mode == 0o600, "\(file) has mode \(String(mode, radix: 8))")
        }
        #expect(try host.shutdown() == 0)
        let again = try HostProcess(plugins: plugins, state: state)
        #expect(try again.call("p1.store_get", ["key": "k"]) == "v")
        #expect(try again.shutdown() == 0)
    }

    @Test func aStoreOthersCouldReadIsMadePrivateAndKept() throws {
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let first = try HostProcess(plugins: plugins, state: state)
        #expect(try first.call("p1.store_put", ["key": "k", "value": "v"]) == true)
        #expect(try first.shutdown() == 0)
        // As an earlier version, or a hand, may have left it.
        try FileOwnership.chmod("\(state)/default.sqlite", 0o644)

        let host = try HostProcess(plugins: plugins, state: state)
        #expect(try host.call("p1.store_get", ["key": "k"]) == "v")
        #expect(FileOwnership.mode("\(state)/default.sqlite") == 0o600)
        try host.waitForStderr(containing: "was readable by others (mode 0644); it is 0600 now")
        #expect(try host.shutdown() == 0)
    }
}
