import Foundation
import ModHostTestKit
import Testing

/// What a new user tripped over (issue 10, item 4): each mistake gets an error naming the path,
/// field or limit and saying what to do, never a silent host or a raw Foundation error.
@Suite struct NewcomerTests {
    /// A `--plugins` path that does not exist, or is a file, stops the host with exit status 2
    /// (the issue's contract; other usage errors exit 64) naming the path; the host never
    /// starts serving nothing.
    @Test(arguments: ["missing", "file"])
    func aPluginPathThatIsNoDirectoryIsAUsageError(_ kind: String) throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-newcomer")
        let path = "\(directory)/plugins"
        if kind == "file" { try Data("not a directory".utf8).write(to: URL(fileURLWithPath: path)) }
        let host = try HostProcess(plugins: path)
        let status = try host.waitForExit()
        #expect(status == 2, "exit status \(status): \(host.stderrText)")
        let expected = kind == "file" ? "--plugins \(path) is not a directory" : "--plugins \(path) does not exist"
        #expect(host.stderrText.contains(expected), "\(host.stderrText)")
    }

    /// A plugin directory with no `*.so` is warned about on stderr, naming it, and the host
    /// still serves its own methods.
    @Test func anEmptyPluginDirectoryIsWarnedAbout() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-empty")
        let host = try HostProcess(plugins: directory)
        let warning = try host.waitForStderr(containing: "no plugin files (*.so) in")
        #expect(warning.contains((directory as NSString).lastPathComponent), "\(warning)")
        #expect(try host.call("modules.list")["modules"] == [])
        #expect(try host.call("host.status")["modules"] == [])
        #expect(try host.shutdown() == 0)
    }
}

/// A bad `--state-dir` or `--config` names the path and the reason, never a raw Foundation or
/// GRDB error; a config section no loaded module takes is warned about.
@Suite struct StartUpErrorTests {
    private func refusedToStart(_ arguments: [String], status expected: Int32) throws -> String {
        let host = try HostProcess(plugins: try TestPlugins.directory(), extraArguments: arguments)
        let status = try host.waitForExit()
        #expect(status == expected, "exit status \(status): \(host.stderrText)")
        #expect(!host.stderrText.contains("NSCocoaErrorDomain") && !host.stderrText.contains("while executing"), "\(host.stderrText)")
        return host.stderrText
    }

    @Test func aStateDirectoryUnderAFileNamesThePathAndTheReason() throws {
        let file = "\(try TemporaryDirectory.make(prefix: "modhost-state"))/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let text = try refusedToStart(["--state-dir", "\(file)/state"], status: 1)
        #expect(text.contains("refusing the state directory \(file)/state: \(FileOwnership.resolved(file)) is not a directory"), "\(text)")
    }

    @Test func aStoreThatIsNotADatabaseNamesTheFileAndTheReason() throws {
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        let database = "\(state)/default.sqlite"
        try Data("not a database, long enough to be read as a header by SQLite: 0123456789abcdef".utf8).write(to: URL(fileURLWithPath: database))
        try FileOwnership.chmod(database, 0o600)
        let host = try HostProcess(plugins: try TestPlugins.directory(), state: state)
        #expect(try host.waitForExit() == 1)
        #expect(host.stderrText.contains("cannot open the store \(database): file is not a database (SQLite error 26): move the file away"),
                "\(host.stderrText)")
        #expect(!host.stderrText.contains("while executing"), "\(host.stderrText)")
    }

    @Test func anEmptyStateDirectoryIsAUsageError() throws {
        let text = try refusedToStart(["--state-dir", ""], status: 64)
        #expect(text.contains("--state-dir must not be empty"), "\(text)")
    }

    @Test func invalidConfigJSONNamesTheLineAndColumn() throws {
        let path = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
        try Data("{\n  \"probe\": {\n    \"a\": 1,\n  }\n}\n".utf8).write(to: URL(fileURLWithPath: path))
        let text = try refusedToStart(["--config", path], status: 64)
        #expect(text.contains("config file \(path) is not valid JSON: line 4, column 3: unexpected '}'"), "\(text)")
    }

    @Test func aMissingConfigFileNamesTheReason() throws {
        let path = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/missing.json"
        let text = try refusedToStart(["--config", path], status: 64)
        #expect(text.contains("cannot read config file \(path): No such file or directory"), "\(text)")
    }

    /// A section for a module id that start-up did not load (a typo) is warned about, naming the
    /// section and the ids that are loaded; the host serves.
    @Test func aConfigSectionForAModuleNotLoadedIsWarnedAbout() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let path = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
        try Data(#"{"probe": {"a": 1}, "prbe": {"a": 2}}"#.utf8).write(to: URL(fileURLWithPath: path))
        let host = try HostProcess(plugins: plugins, extraArguments: ["--config", path])
        let text = try host.waitForStderr(containing: "config section \"prbe\" is for a module that is not loaded (loaded: probe)")
        #expect(!text.contains("config section \"probe\""), "\(text)")
        #expect(try host.call("probe.config") == ["a": 1])
        #expect(try host.shutdown() == 0)
    }
}

/// Refusals of a plugin in `/tmp` (issue 10, item 4): the advice is to move the plugin somewhere
/// only the user can write; a mode change only for the user's own file, never for `/tmp`, and
/// never a chown of another user's file.
@Suite struct RefusalAdviceTests {
    static let moveAdvice = "move the plugin to a directory only you can write, such as ~/.local/lib/modhost"

    /// A fixture copied straight into `/tmp` (sticky, world-writable), owned by `uid`, with `mode`.
    private func pluginInTmp(uid: uid_t?, mode: mode_t) throws -> String {
        let built = try TrustCase.fixture(in: try TestPlugins.directory())
        let path = "/tmp/modhost-advice-\(UUID().uuidString).so"
        try FileManager.default.copyItem(atPath: built, toPath: path)
        if let uid { try FileOwnership.chown(path, uid: uid) }
        try FileOwnership.chmod(path, mode)
        return path
    }

    @Test func aPluginOfAnotherUserInTmpIsToBeMovedNotChowned() throws {
        try FileOwnership.requireRoot()
        let path = try pluginInTmp(uid: try FileOwnership.nobody.uid, mode: 0o644)
        defer { unlink(path) }
        let host = try HostProcess(plugins: try TestPlugins.directory())
        let reason = try host.expectFailure("modules.load", ["path": .string(path)])["data"]["reason"].string ?? ""
        #expect(reason.contains("\(path) is owned by nobody") && reason.contains(Self.moveAdvice), "\(reason)")
        #expect(!reason.contains("chown") && !reason.contains("chmod"), "\(reason)")
        #expect(try host.shutdown() == 0)
    }

    @Test func aWorldWritablePluginOfTheUserInTmpGetsAChmodOfTheFileOnly() throws {
        let path = try pluginInTmp(uid: nil, mode: 0o666)
        defer { unlink(path) }
        let host = try HostProcess(plugins: try TestPlugins.directory())
        let reason = try host.expectFailure("modules.load", ["path": .string(path)])["data"]["reason"].string ?? ""
        #expect(reason.contains("chmod o-w \(path); or \(Self.moveAdvice)"), "\(reason)")
        #expect(reason.components(separatedBy: "chmod").count == 2, "only the file may be chmodded: \(reason)")
        #expect(try host.shutdown() == 0)
    }
}
