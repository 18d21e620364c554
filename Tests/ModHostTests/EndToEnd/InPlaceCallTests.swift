import Foundation
import ModHostTestKit
import Testing

/// The idle one-at-a-time path (issue 17): a client's reader runs a lone call to an idle module
/// itself and writes its reply, while a standby thread takes over reading when input comes
/// meanwhile. What must hold anyway: order per module, other modules served while a plugin
/// blocks in a call the reader runs, and input epoll cannot watch (a regular file).
@Suite struct InPlaceCallTests {
    private func plugins() throws -> String {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        try TestPlugins.probe(into: plugins, id: "p1")
        try TestPlugins.probe(into: plugins, id: "p2")
        return plugins
    }

    /// Lines written one by one without waiting: the host reads some alone (run by the reader)
    /// and some together (posted), and answers each module's calls in the order sent.
    @Test func callsWrittenOneByOneKeepTheirOrderPerModule() throws {
        let host = try HostProcess(plugins: try plugins())
        for index in 0..<400 {
            let module = index % 3 == 0 ? "p2" : "p1"
            try host.send(raw: #"{"jsonrpc":"2.0","id":"\#(module)-\#(index)","method":"\#(module).seq","params":[\#(index)]}"#)
        }
        var seen: [String: [Int64]] = [:]
        for _ in 0..<400 {
            let line = try JSON(parsing: host.nextLine())
            let id = line["id"].string ?? "?"
            seen[String(id.prefix(2)), default: []].append(line["result"].int ?? -1)
        }
        #expect(seen["p1"] == (0..<400).filter { $0 % 3 != 0 }.map(Int64.init))
        #expect(seen["p2"] == (0..<400).filter { $0 % 3 == 0 }.map(Int64.init))
    }

    /// Two plugins blocked in calls, each sent alone (so the thread that read it runs it): a
    /// third module still answers at once, and so does the host.
    @Test func twoBlockedCallsDoNotStopTheReading() throws {
        let host = try HostProcess(plugins: try plugins())
        try host.send(raw: #"{"jsonrpc":"2.0","id":"slow1","method":"p1.sleep","params":[6000]}"#)
        try host.waitUntilRunning("p1")
        try host.send(raw: #"{"jsonrpc":"2.0","id":"slow2","method":"p2.sleep","params":[6000]}"#)
        try host.waitUntilRunning("p2")
        let started = Date()
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.call("echo.echo", ["again"]) == ["again"])
        #expect(Date().timeIntervalSince(started) < 3, "echo waited for the blocked calls")
        #expect(try host.response(id: "slow1", timeout: 30)["result"] == 6000)
        #expect(try host.response(id: "slow2", timeout: 30)["result"] == 6000)
        // Both threads are back: calls to the two modules run again.
        #expect(try host.call("p1.seq", [1]) == 1)
        #expect(try host.call("p2.seq", [2]) == 2)
    }

    /// A call through a hop, read alone: the caller's handle, the callee's and the reply run on
    /// the thread that read it (the callee's worker is not woken). The thread that reads can
    /// change between calls (a standby takes over when input comes during a call, more often on
    /// a loaded machine), so 10 pairs must agree within 200, not all (without the in-place run
    /// none does).
    @Test func aCallThroughAHopRunsOnTheThreadThatReadIt() throws {
        let host = try HostProcess(plugins: try plugins())
        var same = 0
        var pairs = 0
        while same < 10 && pairs < 200 {
            let reader = try host.call("p1.tid")
            let callee = try host.call("p1.call", ["method": "p2.tid"])
            if callee == reader { same += 1 }
            pairs += 1
        }
        #expect(same >= 10, "the callee ran on the reading thread in \(same) of \(pairs) calls")
    }

    /// The callee of a hop run on the reading thread blocks: the caller is free (its own calls
    /// run), and so is reading.
    @Test func aBlockedCalleeOfAHopHoldsUpNeitherTheCallerNorTheReading() throws {
        let host = try HostProcess(plugins: try plugins())
        try host.send(raw: #"{"jsonrpc":"2.0","id":"hop","method":"p1.call","params":{"method":"p2.sleep","params":[8000]}}"#)
        try host.waitUntilRunning("p2")
        let started = Date()
        #expect(try host.call("p1.seq", [7]) == 7)
        #expect(try host.call("echo.ping") == "pong")
        #expect(Date().timeIntervalSince(started) < 5, "the caller or the reading waited for the blocked callee")
        #expect(try host.response(id: "hop", timeout: 30)["result"] == 8000)
    }

    /// A caller that keeps its thread busy after making the call: the callee does not wait for
    /// it, its worker is woken by the sweep (within 50 ms, not the caller's 10 s).
    @Test func aCallerThatStaysBusyDoesNotHoldTheCallee() throws {
        let host = try HostProcess(plugins: try plugins())
        try host.call("events.subscribe", ["topics": ["echo.announced"]])
        let started = Date()
        try host.send(raw: #"{"jsonrpc":"2.0","id":"busy","method":"p1.call","params":{"method":"echo.announce","params":{"n":1},"sleepMs":10000}}"#)
        let event = try host.nextEvent(topic: "echo.announced", timeout: 20)
        #expect(event["data"] == ["n": 1])
        #expect(Date().timeIntervalSince(started) < 5, "the callee waited for its caller's thread")
        #expect(try host.response(id: "busy", timeout: 30)["result"] == true)
    }

    /// A call made while the same module is busy with one the reader runs waits behind it, and is
    /// answered after it.
    @Test func aCallBehindOneTheReaderRunsWaitsForIt() throws {
        let host = try HostProcess(plugins: try plugins())
        try host.send(raw: #"{"jsonrpc":"2.0","id":"first","method":"p1.sleep","params":[500]}"#)
        try host.waitUntilRunning("p1")
        try host.send(raw: #"{"jsonrpc":"2.0","id":"second","method":"p1.seq","params":[2]}"#)
        let first = try JSON(parsing: host.nextLine(timeout: 20))
        let second = try JSON(parsing: host.nextLine(timeout: 20))
        #expect(first["id"] == "first" && first["result"] == 500)
        #expect(second["id"] == "second" && second["result"] == 2)
    }

    /// stdin a regular file (`modhost < requests`): epoll cannot watch it, so every call goes to
    /// its mailbox; all are answered, then end of input shuts the host down.
    @Test func aRegularFileOnStdinIsServed() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-stdin-file")
        let requests = "\(directory)/requests.jsonl"
        let requestLines = (0..<50).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"p1.seq","params":[\#($0)]}"# }
            + [#"{"jsonrpc":"2.0","id":"ping","method":"echo.ping"}"#]
        try (requestLines.joined(separator: "\n") + "\n").write(toFile: requests, atomically: true, encoding: .utf8)
        let run = try ChildProcess.run(
            try HostProcess.buildDirectory().appendingPathComponent("modhost").path,
            ["--plugins", try plugins(), "--state-dir", try TemporaryDirectory.make(prefix: "modhost-state"), "--log-level", "error"],
            stdin: .file(requests), stderr: .null)
        #expect(run.status == 0, "\(run.termination)")
        let lines = try run.out.split(separator: "\n").map { try JSON(parsing: String($0)) }
        let answers = lines.filter { $0["id"] != JSON.null }
        #expect(answers.count == 51)
        #expect(lines.contains { $0["method"] == "host.shutting_down" })
        #expect(answers.first { $0["id"] == "ping" }?["result"] == "pong")
        let sequence: [Int64] = answers.compactMap { answer in answer["id"].int == nil ? nil : answer["result"].int }
        #expect(sequence == (0..<50).map(Int64.init))
    }
}
