import Foundation
import ModHostTestKit
import Testing

/// What a new user tripped over (issue 10, item 4): each mistake gets an error naming the path,
/// field or limit and saying what to do, never a silent host or a raw Foundation error.
@Suite struct NewcomerTests {
    /// A `--plugins` path that does not exist, or is a file, is a usage error (exit status 64,
    /// like every usage error) naming the path; the host never starts serving nothing.
    @Test(arguments: ["missing", "file"])
    func aPluginPathThatIsNoDirectoryIsAUsageError(_ kind: String) throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-newcomer")
        let path = "\(directory)/plugins"
        if kind == "file" { try Data("not a directory".utf8).write(to: URL(fileURLWithPath: path)) }
        let host = try HostProcess(plugins: path)
        let status = try host.waitForExit()
        #expect(status == 64, "exit status \(status): \(host.stderrText)")
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
