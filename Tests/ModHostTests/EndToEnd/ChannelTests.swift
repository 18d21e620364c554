import Foundation
import ModHostTestKit
import Testing

/// The control channel through the real binary: ordering and parallelism, limits, shutdown,
/// stdout purity, timeouts, and errors for bad input.
@Suite struct ChannelTests {
    /// A host with the C example (`echo`) and two probes (`p1`, `p2`).
    private func startHost(_ arguments: [String] = []) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        try TestPlugins.probe(into: plugins, id: "p1")
        try TestPlugins.probe(into: plugins, id: "p2")
        return try HostProcess(plugins: plugins, extraArguments: arguments)
    }

    @Test func callsToOneModuleKeepTheirOrder() throws {
        let host = try startHost()
        let ids = (1...300).map { _ in host.takeID() }
        let lines = ids.enumerated().map { index, id in
            #"{"jsonrpc":"2.0","id":\#(id),"method":"p1.seq","params":[\#(index)]}"#
        }
        try host.send(raw: lines.joined(separator: "\n"))
        var results: [Int64] = []
        for _ in ids { results.append(try JSON(parsing: host.nextLine())["result"].int ?? -1) }
        #expect(results == (0..<300).map(Int64.init))
    }

    @Test func differentModulesRunInParallel() throws {
        let host = try startHost()
        // p1 blocks its thread for 6 s; p2 must answer meanwhile.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"slow","method":"p1.sleep","params":[6000]}"#)
        try host.send(raw: #"{"jsonrpc":"2.0","id":"fast","method":"p2.ping"}"#)
        let first = try JSON(parsing: host.nextLine(timeout: 20))
        #expect(first["id"] == "fast")
        let second = try JSON(parsing: host.nextLine(timeout: 20))
        #expect(second["id"] == "slow")
        #expect(second["result"] == 6000)
    }

    @Test func overlongLineIsRefusedAndTheChannelStaysInSync() throws {
        let host = try startHost(["--max-line-bytes", "4096"])
        let big = String(repeating: "x", count: 100_000)
        try host.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"echo.echo","params":["\#(big)"]}"#)
        let error = try JSON(parsing: host.nextLine())
        #expect(error["error"]["code"] == -32600)
        #expect(error["error"]["message"].string?.contains("limit of 4096 bytes (--max-line-bytes)") == true)
        #expect(error["id"] == 1, "answered with the id its first part holds")
        #expect(try host.call("echo.echo", ["small"]) == ["small"])
        // Just under the limit still works.
        let fits = String(repeating: "y", count: 3900)
        #expect(try host.call("echo.echo", [.string(fits)]) == [.string(fits)])
    }

    @Test func endOfInputFinishesCallsInFlightAndExitsZero() throws {
        let host = try startHost()
        try host.send(raw: #"{"jsonrpc":"2.0","id":"sleep","method":"p1.sleep","params":[300]}"#)
        try host.send(raw: #"{"jsonrpc":"2.0","id":"later","method":"echo.later","params":[200]}"#)
        try host.send(raw: #"{"jsonrpc":"2.0","id":"queued","method":"p1.seq","params":[7]}"#)
        #expect(try host.shutdown() == 0)
        #expect(try host.response(id: "sleep")["result"] == 300)
        #expect(try host.response(id: "later")["result"] == "later")
        #expect(try host.response(id: "queued")["result"] == 7)
        let stderr = host.stderrText
        #expect(stderr.contains("stopped p1"))
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func signalShutsDownGracefully(signal: Int32) throws {
        let host = try startHost()
        #expect(try host.call("echo.ping") == "pong")
        host.signal(signal)
        #expect(try host.waitForExit() == 0)
        #expect(host.stderrText.contains(signal == SIGTERM ? "SIGTERM" : "SIGINT"))
        #expect(host.stderrText.contains("stopped p2"))
    }

    @Test func hostShutdownAnswersThenExits() throws {
        let host = try startHost()
        #expect(try host.call("host.shutdown") == true)
        #expect(try host.waitForExit() == 0)
    }

    @Test func pluginWritingToStdoutCannotCorruptTheChannel() throws {
        let host = try startHost()
        #expect(try host.call("echo.noisy") == "ok")
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.shutdown() == 0)
        for line in host.stdoutLines {
            #expect((try? JSON(parsing: line)) != nil, "not a protocol message on stdout: \(line)")
        }
        #expect(host.stderrText.contains("noisy via printf"))
        #expect(host.stderrText.contains("noisy via write(1)"))
    }

    @Test func pendingCallNeverCompletedTimesOut() throws {
        let host = try startHost(["--call-timeout-ms", "200"])
        let response = try host.request("p1.never", nil, timeout: 10)
        #expect(response["error"]["code"] == -32004)
        #expect(response["error"]["data"]["module"] == "p1")
        #expect(try host.call("p1.ping") == "pong")
    }

    @Test func asynchronousCompletionFromAnotherThread() throws {
        let host = try startHost()
        try host.send(raw: #"{"jsonrpc":"2.0","id":"a","method":"echo.later","params":[300]}"#)
        #expect(try host.call("echo.ping") == "pong", "a pending call must not block the module")
        #expect(try host.response(id: "a")["result"] == "later")
    }

    @Test func moduleErrorsCarryTheModuleAndTheirCode() throws {
        let host = try startHost()
        let bad = try host.request("echo.add", ["one", 2])
        #expect(bad["error"]["code"] == -32602)
        #expect(bad["error"]["message"].string?.contains("add expects") == true)
        #expect(bad["error"]["data"]["module"] == "echo")
    }

    @Test func badRequestsGetClearErrors() throws {
        let host = try startHost()
        #expect(try host.request("host.nope")["error"]["code"] == -32601)
        #expect(try host.request("rpc.discover")["error"]["code"] == -32601)
        #expect(try host.request("p1.nope")["error"]["message"].string?.contains("p1 has no method nope") == true)
        #expect(try host.request("nodot")["error"]["code"] == -32601)
        let positional = try host.request("modules.describe", ["p1"])
        #expect(positional["error"]["code"] == -32602)
        let missing = try host.request("modules.describe", [:])
        #expect(missing["error"]["code"] == -32602)
        #expect(missing["error"]["message"].string?.contains("\"id\"") == true)
        let wrongType = try host.request("events.subscribe", ["topics": "x"])
        #expect(wrongType["error"]["message"].string?.contains("topics") == true)
        #expect(try host.request("clock.advance", ["ms": 5])["error"]["code"] == -32601, "no manual clock")
        // Ids of every allowed kind are echoed exactly.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"x\"y","method":"echo.ping"}"#)
        #expect(try JSON(parsing: host.nextLine())["id"] == "x\"y")
        try host.send(raw: #"{"jsonrpc":"2.0","id":1.5e3,"method":"echo.ping"}"#)
        #expect(try host.nextLine().contains(#""id":1.5e3"#))
        try host.send(raw: #"{"jsonrpc":"2.0","id":null,"method":"echo.ping"}"#)
        #expect(try JSON(parsing: host.nextLine())["result"] == "pong")
        // An escaped method name, CRLF line ending, blank lines.
        try host.send(raw: "\n  \n" + #"{"jsonrpc":"2.0","id":"esc","method":"echo.p\u0069ng"}"# + "\r")
        #expect(try JSON(parsing: host.nextLine()) == ["jsonrpc": "2.0", "id": "esc", "result": "pong"])
        // Invalid requests that still carry a valid id are answered with it.
        try host.send(raw: #"{"jsonrpc":"1.0","id":42,"method":"echo.ping"}"#)
        let wrongVersion = try JSON(parsing: host.nextLine())
        #expect(wrongVersion["id"] == 42)
        #expect(wrongVersion["error"]["code"] == -32600)
        try host.send(raw: #"{"jsonrpc":"2.0","id":43,"method":"echo.ping","params":"x"}"#)
        #expect(try JSON(parsing: host.nextLine())["error"]["code"] == -32600)
        // Invalid UTF-8 is a parse error, not a crash.
        try host.send(bytes: Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D, 0x0A]))
        #expect(try JSON(parsing: host.nextLine())["error"]["code"] == -32700)
        #expect(try host.call("echo.ping") == "pong")
    }

    @Test func configSectionsReachInit() throws {
        let directory = try TemporaryDirectory.make()
        let config = "\(directory)/modhost.json"
        try Data(#"{"p1": {"limit": 3, "name": "first"}, "late": {"x": true}}"#.utf8).write(to: URL(fileURLWithPath: config))
        let host = try startHost(["--config", config])
        #expect(try host.call("p1.config") == ["limit": 3, "name": "first"])
        #expect(try host.call("p2.config") == [:])
        // A module loaded at run time gets its section by module id, whatever the file is called;
        // a config param replaces it.
        let later = try TestPlugins.directory()
        let file = try TestPlugins.probe(into: later, id: "late", name: "libwhatever.so")
        try host.call("modules.load", ["path": .string(file)])
        #expect(try host.call("late.config") == ["x": true])
        try host.call("modules.unload", ["id": "late"])
        try host.call("modules.load", ["path": .string(file), "config": ["y": 1]])
        #expect(try host.call("late.config") == ["y": 1])
    }

    @Test func helpExplainsEveryOption() throws {
        let help = try ChildProcess.run(try HostProcess.locateExecutable().path, ["--help"], stdin: .inherit, stderr: .inherit)
        #expect(help.status == 0)
        let text = help.out
        for option in ["--plugins", "--state-dir", "--server-id", "--config", "--manual-clock", "--log-level", "--default-module", "--max-line-bytes"] {
            #expect(text.contains(option), "--help does not mention \(option)")
        }
    }
}
