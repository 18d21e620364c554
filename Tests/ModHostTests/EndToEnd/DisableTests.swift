import Foundation
import ModHostTestKit
import Testing

/// `--disable ID|FILE` (issue 8, item 6; DESIGN.md, Loading): a host that crashed in a module
/// starts without it, and the other modules serve.
@Suite struct DisableTests {
    /// A disabled id: the module is skipped at start-up with an info line, refused by
    /// `modules.load` with -32003, listed by `host.status`; the rest serves.
    @Test func disableByID() throws {
        let (directory, file) = try CrashReportTests.plugins()
        let host = try HostProcess(plugins: directory, extraArguments: ["--disable", "crasher"])
        let status = try host.call("host.status")
        #expect(status["modules"].array?.compactMap { $0["id"].string } == ["echo"])
        #expect(status["disabled"] == ["crasher"])
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.expectFailure("crasher.ping")["code"] == -32601)
        // The log line quotes the path's end (bounded outside text).
        let log = try host.waitForStderr(containing: ": module crasher is disabled by --disable crasher")  // stderr is a pipe of its own
        #expect(log.contains("/libcrasher.so\" ("), "\(log)")

        let refusal = try host.expectFailure("modules.load", ["path": .string(file)])
        #expect(refusal["code"] == -32003)
        #expect(refusal["data"]["reason"] == "module crasher is disabled by --disable crasher; restart without that option to load it")
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.shutdown() == 0)
    }

    /// A disabled file is never opened, so a crash in its `mh_plugin_entry` (which kills a host
    /// started without the option: CrashReportTests) is avoided. The path may be spelled any way
    /// that resolves to the file.
    @Test func disableByFileAvoidsACrashWhileLoading() throws {
        let (directory, file) = try CrashReportTests.plugins(crasher: ["-DCRASHER_CRASH_IN_ENTRY"])
        let spelled = "\(directory)/../\((directory as NSString).lastPathComponent)/./libcrasher.so"
        let host = try HostProcess(plugins: directory, extraArguments: ["--disable", spelled])
        let status = try host.call("host.status")
        #expect(status["modules"].array?.compactMap { $0["id"].string } == ["echo"])
        #expect(status["disabled"] == [.string(file)])
        #expect(try host.call("echo.ping") == "pong")
        let log = try host.waitForStderr(containing: ": disabled by --disable \(file)")
        #expect(log.contains("/libcrasher.so\" ("), "\(log)")

        let load = try host.expectFailure("modules.load", ["path": .string(file)])
        #expect(load["code"] == -32003)
        #expect(load["data"]["reason"] == .string("\(file) is disabled by --disable \(file); restart without that option to load it"))
        let swap = try host.expectFailure("modules.swap", ["id": "echo", "path": .string(file)])
        #expect(swap["code"] == -32002)
        #expect(swap["data"]["reason"].string?.contains("is disabled by --disable \(file)") == true, "\(swap)")
        #expect(try host.shutdown() == 0)
    }

    /// The drop-in watcher skips a disabled file (never opened) and a disabled module, with an
    /// info line each, and keeps loading the others.
    @Test func theWatchedDirectorySkipsWhatIsDisabled() throws {
        let plugins = try TestPlugins.directory()
        let staging = try TestPlugins.directory()
        let host = try HostProcess(
            plugins: plugins,
            extraArguments: ["--watch", "--watch-settle-ms", "50", "--disable", "crasher", "--disable", "\(plugins)/libbad.so"])
        try host.call("events.subscribe", ["topics": ["modules.*"]])
        let crasher = try TestPlugins.crasher(into: staging)
        let bad = try TestPlugins.crasher(into: staging, id: "bad", defines: ["-DCRASHER_CRASH_IN_ENTRY"])
        let echo = try TestPlugins.echo(into: staging)
        #expect(rename(crasher, "\(plugins)/libcrasher.so") == 0)
        #expect(rename(bad, "\(plugins)/libbad.so") == 0)
        try host.waitForStderr(containing: "plugin directory: \"libcrasher.so\" skipped: module crasher is disabled by --disable crasher")
        try host.waitForStderr(containing: "plugin directory: \"libbad.so\" skipped: ")
        #expect(rename(echo, "\(plugins)/libecho.so") == 0)
        #expect(try host.nextEvent(topic: "modules.loaded")["data"]["id"] == "echo")
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.moduleStates() == ["echo": "running"])
        #expect(!host.stdoutLines.contains { $0.contains("modules.load_failed") }, "a skip is not a failure")
        #expect(try host.shutdown() == 0)
    }

    /// A value that is neither an id nor a path is refused at start, naming it.
    @Test func aValueThatIsNeitherAnIDNorAFileIsRefused() throws {
        let host = try HostProcess(plugins: try TestPlugins.directory(), extraArguments: ["--disable", "Health"])
        #expect(try host.waitForExit() == 64)
        #expect(host.stderrText.contains("--disable Health: neither a module id ([a-z][a-z0-9_-]{0,63}) nor a plugin file"),
                "\(host.stderrText)")
    }
}
