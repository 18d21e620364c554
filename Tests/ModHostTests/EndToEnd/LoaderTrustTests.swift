import Foundation
import ModHostTestKit
import Testing

/// A plugin file laid out with one thing about its ownership or permissions, and what the host
/// must say about it. `make` gets a fresh private (0700) directory and returns the path to load
/// and the phrases the refusal must contain (empty: it must load).
struct TrustCase: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (String) throws -> (path: String, phrases: [String])
    var testDescription: String { name }

    /// The working `fixture` module, built into `directory`.
    static func fixture(in directory: String, name: String = "libfixture.so") throws -> String {
        try TestPlugins.broken(into: directory, name: name, defines: [])
    }

    /// What every refusal of a plugin advises, whatever else it says.
    static let moveAdvice = "move the plugin to a directory only you can write, such as ~/.local/lib/modhost"

    /// Each way the issue found a file loading that must be refused.
    static let refused: [TrustCase] = [
        TrustCase(name: "0775 file whose group has other members") { directory in
            let (_, nogroup) = try FileOwnership.nobody
            let path = try fixture(in: directory)
            try FileOwnership.chown(path, gid: nogroup)
            try FileOwnership.chmod(path, 0o775)
            return (path, [FileOwnership.resolved(path), "group-writable (mode 0775)", FileOwnership.groupName(nogroup), "nobody", "chmod g-w"])
        },
        TrustCase(name: "file in a 0775 directory whose group has other members") { directory in
            let (_, nogroup) = try FileOwnership.nobody
            let inner = try FileOwnership.mkdir("\(directory)/shared", 0o775)
            try FileOwnership.chown(inner, gid: nogroup)
            let path = try fixture(in: inner)
            return (path, [FileOwnership.resolved(inner), "group-writable (mode 0775)", FileOwnership.groupName(nogroup), "chmod g-w"])
        },
        TrustCase(name: "symbolic link in a 0700 directory to a file in a 0777 directory") { directory in
            let open = try FileOwnership.mkdir("\(directory)/open", 0o777)
            let target = try fixture(in: open)
            let link = "\(directory)/private/libfixture.so"
            _ = try FileOwnership.mkdir("\(directory)/private", 0o700)
            try FileOwnership.symlink(target, at: link)
            return (link, [FileOwnership.resolved(open), "writable by anyone (mode 0777) without the sticky bit", "chmod o-w",
                           "on the way to \(link)"])
        },
        TrustCase(name: "chain of links through a 0777 directory to a trusted file") { directory in
            // Whoever can write the middle directory can repoint the second link.
            let target = try fixture(in: try FileOwnership.mkdir("\(directory)/trusted", 0o755))
            let open = try FileOwnership.mkdir("\(directory)/open", 0o777)
            try FileOwnership.symlink(target, at: "\(open)/hop.so")
            let link = "\(try FileOwnership.mkdir("\(directory)/private", 0o700))/libfixture.so"
            try FileOwnership.symlink("\(open)/hop.so", at: link)
            return (link, [FileOwnership.resolved(open), "writable by anyone (mode 0777) without the sticky bit"])
        },
        TrustCase(name: "link owned by another user in a sticky 1777 directory") { directory in
            let (nobody, _) = try FileOwnership.nobody
            let target = try fixture(in: directory)
            let sticky = try FileOwnership.mkdir("\(directory)/sticky", 0o1777)
            try FileOwnership.symlink(target, at: "\(sticky)/libfixture.so")
            try FileOwnership.chown("\(sticky)/libfixture.so", uid: nobody)
            return ("\(sticky)/libfixture.so", ["symbolic link owned by nobody (uid \(nobody))", "sticky directory others can write"])
        },
        TrustCase(name: "file whose ACL lets another user write") { directory in
            // Its mode reads 0664 with group root, which alone would pass as a per-user group.
            let (nobody, _) = try FileOwnership.nobody
            let path = try fixture(in: directory)
            try FileOwnership.chmod(path, 0o644)
            try FileOwnership.allowWrite(path, uid: nobody)
            return (path, [FileOwnership.resolved(path), "has an ACL that lets user nobody write", "setfacl -b"])
        },
        TrustCase(name: "directory whose ACL lets another user write") { directory in
            let (nobody, _) = try FileOwnership.nobody
            let inner = try FileOwnership.mkdir("\(directory)/acl", 0o755)
            let path = try fixture(in: inner)
            try FileOwnership.allowWrite(inner, uid: nobody)
            return (path, [FileOwnership.resolved(inner), "has an ACL that lets user nobody write"])
        },
        TrustCase(name: "symbolic link in a 0777 directory to a trusted file") { directory in
            let target = try fixture(in: directory)
            let open = try FileOwnership.mkdir("\(directory)/open", 0o777)
            try FileOwnership.symlink(target, at: "\(open)/libfixture.so")
            return ("\(open)/libfixture.so", [FileOwnership.resolved(open), "writable by anyone (mode 0777) without the sticky bit"])
        },
        TrustCase(name: "0755 directory inside a 0777 directory without the sticky bit") { directory in
            let open = try FileOwnership.mkdir("\(directory)/open", 0o777)
            let inner = try FileOwnership.mkdir("\(open)/plugins", 0o755)
            let path = try fixture(in: inner)
            return (path, [FileOwnership.resolved(open), "writable by anyone (mode 0777) without the sticky bit", "chmod o-w"])
        },
        TrustCase(name: "file owned by another user") { directory in
            let (nobody, _) = try FileOwnership.nobody
            let path = try fixture(in: directory)
            try FileOwnership.chown(path, uid: nobody)
            return (path, [FileOwnership.resolved(path), "owned by nobody (uid \(nobody))", TrustCase.moveAdvice])
        },
        TrustCase(name: "directory owned by another user") { directory in
            let (nobody, _) = try FileOwnership.nobody
            let inner = try FileOwnership.mkdir("\(directory)/theirs", 0o755)
            let path = try fixture(in: inner)
            try FileOwnership.chown(inner, uid: nobody)
            return (path, [FileOwnership.resolved(inner), "owned by nobody (uid \(nobody))", TrustCase.moveAdvice])
        },
        TrustCase(name: "0666 file") { directory in
            let path = try fixture(in: directory)
            try FileOwnership.chmod(path, 0o666)
            return (path, [FileOwnership.resolved(path), "writable by anyone (mode 0666)", "chmod o-w"])
        },
    ]
}

/// The loader loads only what the host's user controls (sshd StrictModes, with Debian's two
/// exceptions), through `modules.load`, the start-up scan and the watcher; after each refusal
/// the host serves on.
@Suite struct LoaderTrustTests {
    /// A host serving the C example echo plugin.
    private func echoHost(_ arguments: [String] = []) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        return try HostProcess(plugins: plugins, extraArguments: arguments)
    }

    private func expectServing(_ host: HostProcess, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try host.call("echo.ping") == "pong", sourceLocation: sourceLocation)
        #expect(try host.moduleStates() == ["echo": "running"], sourceLocation: sourceLocation)
    }

    @Test(arguments: TrustCase.refused)
    func refusedByModulesLoad(_ trust: TrustCase) throws {
        try FileOwnership.requireRoot()
        let host = try echoHost()
        let (path, phrases) = try trust.make(try TestPlugins.directory())
        let error = try host.expectFailure("modules.load", ["path": .string(path)])
        #expect(error["code"] == -32003, "\(error)")
        #expect(error["data"]["file"] == .string(path))
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.hasPrefix("refusing to load: "), "\(reason)")
        for phrase in phrases + [TrustCase.moveAdvice] {
            #expect(reason.contains(phrase), "data.reason \"\(reason)\" should contain \"\(phrase)\"")
        }
        #expect(!reason.contains("chown"), "a path of another user is never to be chowned: \(reason)")
        try expectServing(host)
    }

    /// Debian's first exception: a group-writable file whose group holds only its owner. Group
    /// root qualifies: no user but root has it as primary group, and it lists no members.
    @Test func groupWritableFileOfTheOwnersOwnGroupLoads() throws {
        try FileOwnership.requireRoot()
        let host = try echoHost()
        let path = try TrustCase.fixture(in: try TestPlugins.directory())
        try FileOwnership.chmod(path, 0o775)
        #expect(try host.call("modules.load", ["path": .string(path)])["id"] == "fixture")
        #expect(try host.call("fixture.ping") == "pong")
    }

    /// The same through a supplementary member: a fresh group whose only member is root, on a
    /// 0775 directory and a 0775 file in it.
    @Test func groupWhoseOnlyMemberIsTheOwnerLoads() throws {
        try FileOwnership.requireRoot()
        let host = try echoHost()
        let solo = try FileOwnership.TemporaryGroup(members: ["root"])
        defer { solo.delete() }
        let shared = try FileOwnership.mkdir("\(try TestPlugins.directory())/solo", 0o775)
        try FileOwnership.chown(shared, gid: solo.gid)
        let path = try TrustCase.fixture(in: shared)
        try FileOwnership.chown(path, gid: solo.gid)
        try FileOwnership.chmod(path, 0o775)
        #expect(try host.call("modules.load", ["path": .string(path)])["id"] == "fixture")
    }

    /// Debian's second exception: a 0644 file the user owns, straight in a sticky 1777 directory
    /// (where nobody else can rename or replace it).
    @Test func fileInAStickyDirectoryLoads() throws {
        let host = try echoHost()
        let sticky = try FileOwnership.mkdir("\(try TestPlugins.directory())/sticky", 0o1777)
        let path = try TrustCase.fixture(in: sticky)
        try FileOwnership.chmod(path, 0o644)
        #expect(try host.call("modules.load", ["path": .string(path)])["id"] == "fixture")
    }

    /// A group-writable file whose group has nobody in it at all is refused (such groups serve
    /// setgid programs, not a user).
    @Test func groupWithoutMembersIsRefused() throws {
        try FileOwnership.requireRoot()
        let host = try echoHost()
        let empty = try FileOwnership.TemporaryGroup(members: [])
        defer { empty.delete() }
        let path = try TrustCase.fixture(in: try TestPlugins.directory())
        try FileOwnership.chown(path, gid: empty.gid)
        try FileOwnership.chmod(path, 0o770)
        let error = try host.expectFailure("modules.load", ["path": .string(path)])
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.contains("its group \(empty.name) has no members: chmod g-w"), "\(reason)")
        try expectServing(host)
    }

    /// The start-up scan applies the same rules: the refused files are skipped, each with an
    /// error line naming it and its fault, and the rest loads.
    @Test func startUpScanRefusesTheSame() throws {
        try FileOwnership.requireRoot()
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let (nobody, nogroup) = try FileOwnership.nobody
        let foreign = try TrustCase.fixture(in: plugins, name: "libforeign.so")
        try FileOwnership.chown(foreign, uid: nobody)
        let shared = try TestPlugins.broken(into: plugins, name: "libshared.so", defines: ["-DMH_FIXTURE_ID=\"shared\""])
        try FileOwnership.chown(shared, gid: nogroup)
        try FileOwnership.chmod(shared, 0o775)
        let elsewhere = try TestPlugins.directory()
        let open = try FileOwnership.mkdir("\(elsewhere)/open", 0o777)
        try FileOwnership.symlink(try TestPlugins.broken(into: open, name: "liblinked.so", defines: ["-DMH_FIXTURE_ID=\"linked\""]),
                                  at: "\(plugins)/liblinked.so")

        let host = try HostProcess(plugins: plugins)
        #expect(try host.moduleStates() == ["echo": "running"])
        let stderr = try host.waitForStderr(containing: "ready")
        for (file, fault) in [(foreign, "owned by nobody"), (shared, "group-writable (mode 0775)"),
                              ("\(plugins)/liblinked.so", "writable by anyone (mode 0777) without the sticky bit")] {
            // The log line quotes the end of the path (bounded outside text), then the reason.
            let name = "/" + (file as NSString).lastPathComponent + "\""
            let line = stderr.split(separator: "\n").first { $0.contains("not loaded: \"") && $0.contains(name) && $0.contains("refusing to load") }
            #expect(line?.contains(fault) == true, "no error line names \(file) and \"\(fault)\":\n\(stderr)")
        }
        #expect(try host.shutdown() == 0)
    }

    /// The watcher too: a file owned by another user renamed into the watched directory is
    /// refused (`modules.load_failed` naming the fault), and the host serves on.
    @Test func watcherRefusesTheSame() throws {
        try FileOwnership.requireRoot()
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--watch", "--watch-settle-ms", "50"])
        try host.call("events.subscribe", ["topics": ["modules.*"]])
        let (nobody, _) = try FileOwnership.nobody
        let built = try TestPlugins.probe(into: plugins, name: ".libprobe.new")
        try FileOwnership.chown(built, uid: nobody)
        guard rename(built, "\(plugins)/libprobe.so") == 0 else { throw HostProcessError("rename failed") }

        let failed = try host.nextEvent(topic: "modules.load_failed")
        #expect(failed["data"]["file"] == .string("\(plugins)/libprobe.so"))
        let reason = failed["data"]["reason"].string ?? ""
        #expect(reason.contains("refusing to load: \(FileOwnership.resolved(plugins))/libprobe.so is owned by nobody"), "\(reason)")
        try expectServing(host)
    }
}
