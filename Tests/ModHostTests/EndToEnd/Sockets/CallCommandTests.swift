import Foundation
import ModHostTestKit
import Testing

/// `modhost call`, and several real client processes driving one host at once.
@Suite struct CallCommandTests {
    /// Runs `modhost call ARGUMENTS` to its end: exit status, stdout, stderr.
    private func call(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let result = try ChildProcess.run(try HostProcess.locateExecutable().path, ["call"] + arguments, environment: environment, stdin: .inherit)
        return (result.status, result.out, result.err)
    }

    @Test func printsTheResultOrTheErrorAndExitsAccordingly() throws {
        let server = try SocketHost()
        let ok = try call(["--socket", server.path, "echo.echo", #"{"a":[1,2]}"#])
        #expect(ok.status == 0)
        #expect(ok.out == "{\"a\":[1,2]}\n")
        #expect(ok.err.isEmpty)

        let failed = try call(["--socket", server.path, "echo.nothing"])
        #expect(failed.status == 1)
        #expect(failed.out.isEmpty)
        let error = try JSON(parsing: failed.err.trimmingCharacters(in: .newlines))
        #expect(error["code"] == -32601)

        let badParams = try call(["--socket", server.path, "echo.echo", "{oops"])
        #expect(badParams.status == 64)
        #expect(badParams.err.contains("PARAMS_JSON is not valid JSON"))

        let nowhere = try call(["--socket", server.path + ".missing", "host.status"])
        #expect(nowhere.status == 2)
        #expect(nowhere.err.contains("cannot connect to unix:\(server.path).missing"))
    }

    @Test func theDefaultSocketIsTheOneListenUnixUses() throws {
        let runtime = try TemporaryDirectory.make(prefix: "modhost-xdg")
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix", "--server-id", "beta"], environment: ["XDG_RUNTIME_DIR": runtime])
        try host.waitForStderr(containing: "ready:")
        let answer = try call(["--server-id", "beta", "echo.ping"], environment: ["XDG_RUNTIME_DIR": runtime])
        #expect(answer.status == 0 && answer.out == "\"pong\"\n", "\(answer)")
    }

    @Test func subscribeStreamsEventsUntilTheHostCloses() throws {
        let server = try SocketHost()
        let streamer = try PipedProcess(try HostProcess.locateExecutable(), ["call", "--socket", server.path, "--subscribe", "news.*"])
        #expect(try Poll.until { try server.clients().values.contains { $0["subscriptions"] == ["news.*"] } })
        try server.host.call("events.publish", ["topic": "news.first", "data": ["n": 1]])
        try server.host.call("events.publish", ["topic": "other", "data": 0])
        try server.host.call("events.publish", ["topic": "news.second", "data": 2])
        let first = try JSON(parsing: streamer.readLine())
        #expect(first["topic"] == "news.first" && first["data"] == ["n": 1] && first["ts"].int != nil)
        #expect(try JSON(parsing: streamer.readLine())["topic"] == "news.second")
        #expect(try server.host.shutdown() == 0)
        streamer.process.waitUntilExit()
        #expect(streamer.process.terminationStatus == 0)
    }

    @Test func versionPrintsTheHostAndABIVersions() throws {
        let process = try PipedProcess(try HostProcess.locateExecutable(), ["--version"])
        #expect(process.readLine() == "modhost 0.1.0 (ABI 1.2)")
        process.stop()
        #expect(process.process.terminationStatus == 0)
    }

    @Test func pythonClientsAndModhostCallDriveOneHostAtOnce() throws {
        let server = try SocketHost()
        let script = TestPlugins.fixtures.appendingPathComponent("socket_client.py").path
        let pythons = try (0..<4).map { index in
            try PipedProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, server.path, "py\(index)", "500"])
        }
        // Meanwhile, one-shot calls from the shell's client, and the stdio client.
        for index in 0..<10 {
            let answer = try call(["--socket", server.path, "echo.echo", "[\(index)]"])
            #expect(answer.status == 0 && answer.out == "[\(index)]\n", "\(answer)")
            #expect(try server.host.call("echo.echo", [.int(Int64(index))]) == [.int(Int64(index))])
        }
        var ids: Set<Int64> = []
        for (index, python) in pythons.enumerated() {
            let summary = try JSON(parsing: python.readLine())
            #expect(summary["name"] == .string("py\(index)"))
            #expect(summary["responses"] == 550 && summary["wrong"] == 0 && summary["events"] == 50, "\(summary)")
            ids.insert(try #require(summary["clientId"].int))
            python.stop()
            #expect(python.process.terminationStatus == 0)
        }
        #expect(ids.count == 4 && !ids.contains(1), "each connection has its own client id")
    }
}
