import Foundation
import ModHostTestKit
import Testing

/// While a load is in progress, calls to a module id not known yet wait for it (issue 10,
/// item 4): a client may pipeline `modules.load` and a call to the new module.
@Suite struct LoadInProgressTests {
    /// A request line with an integer id.
    private func line(_ id: Int, _ method: String, _ params: JSON? = nil) -> String {
        var members: [String: JSON] = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method)]
        if let params { members["params"] = params }
        return JSON.object(members).text
    }

    /// `modules.load` and a call to the new module written back to back, in one write, 20 times
    /// over (load and unload cycles): every call is answered by the module. Before, 19 in 20
    /// failed with "no module ping is loaded".
    @Test func aCallPipelinedAfterModulesLoadReachesTheNewModule() throws {
        let plugins = try TestPlugins.directory()
        let file = try TestPlugins.probe(into: try TestPlugins.directory(), id: "ping")
        let host = try HostProcess(plugins: plugins)
        var answered = 0
        for cycle in 0..<20 {
            let load = 1000 + cycle * 10
            try host.send(raw: line(load, "modules.load", ["path": .string(file)]) + "\n" + line(load + 1, "ping.ping"))
            #expect(try host.response(id: .int(Int64(load)))["result"]["id"] == "ping")
            let call = try host.response(id: .int(Int64(load + 1)))
            #expect(call["result"] == "pong", "cycle \(cycle): \(call.text)")
            if call["result"] == "pong" { answered += 1 }
            #expect(try host.call("modules.unload", ["id": "ping"])["unloaded"] == "ping")
        }
        #expect(answered == 20)
        #expect(try host.shutdown() == 0)
    }

    /// Several calls, a batch and a notification read during a load all wait and run in the
    /// order they were read; a call to a method the new module lacks gets -32601 naming it.
    @Test func callsWaitingForALoadKeepTheirOrder() throws {
        let file = try TestPlugins.probe(into: try TestPlugins.directory(), id: "slow", defines: ["-DPROBE_INIT_SLEEP_MS=300"])
        let host = try HostProcess(plugins: try TestPlugins.directory())
        var lines = [line(1, "modules.load", ["path": .string(file)])]
        lines += (2...6).map { line($0, "slow.seq", [.int(Int64($0))]) }
        lines.append("[" + line(7, "slow.seq", [7]) + "," + line(8, "slow.nothing") + "]")
        try host.send(raw: lines.joined(separator: "\n"))
        let answers = try (0..<7).map { _ in try JSON(parsing: try host.nextLine()) }
        #expect(answers.first?["id"] == 1 && answers.first?["result"]["id"] == "slow", "the load is answered first: \(answers)")
        let singles = answers.filter { $0.array == nil && $0["id"] != 1 }
        #expect(singles.map { $0["id"] } == [2, 3, 4, 5, 6], "in the order read: \(singles)")
        #expect(singles.map { $0["result"] } == [2, 3, 4, 5, 6])
        let batch = answers.first { $0.array != nil } ?? .null
        let byID = Dictionary((batch.array ?? []).map { ($0["id"].int ?? 0, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byID[7]?["result"] == 7, "\(batch.text)")
        #expect(byID[8]?["error"]["code"] == -32601, "\(batch.text)")
        #expect(byID[8]?["error"]["message"].string?.contains("has no method nothing") == true, "\(batch.text)")
        #expect(try host.shutdown() == 0)
    }

    /// A call waiting for a load that fails, or that loads another module, gets -32601 once
    /// the load is over; with no load in progress an unknown module gets -32601 at once.
    @Test func aCallToAModuleNoLoadBringsFailsWithMethodNotFound() throws {
        let directory = try TestPlugins.directory()
        let other = try TestPlugins.probe(into: directory, id: "other", defines: ["-DPROBE_INIT_SLEEP_MS=200"])
        let failing = try TestPlugins.broken(into: directory, name: "libbad.so", defines: ["-DMH_FIXTURE_INIT_FAILS=\"refused\""])
        let host = try HostProcess(plugins: try TestPlugins.directory())

        let started = Date()
        let unknown = try host.expectFailure("ping.ping")
        #expect(unknown["code"] == -32601 && unknown["message"].string?.contains("no module ping is loaded") == true, "\(unknown)")
        #expect(Date().timeIntervalSince(started) < 5)

        try host.send(raw: line(1, "modules.load", ["path": .string(other)]) + "\n" + line(2, "ping.ping"))
        #expect(try host.response(id: 1)["result"]["id"] == "other")
        let afterOther = try host.response(id: 2)
        #expect(afterOther["error"]["code"] == -32601 && afterOther["error"]["message"].string?.contains("no module ping is loaded") == true,
                "\(afterOther.text)")

        try host.send(raw: line(3, "modules.load", ["path": .string(failing)]) + "\n" + line(4, "fixture.ping"))
        #expect(try host.response(id: 3)["error"]["code"] == -32003)
        #expect(try host.response(id: 4)["error"]["code"] == -32601)
        #expect(try host.call("other.ping") == "pong")
        #expect(try host.shutdown() == 0)
    }

    /// A load the drop-in watcher started counts too: a call sent while the new module's `init`
    /// runs waits for it and is answered by the module.
    @Test func aWatcherLoadCountsAsALoadInProgress() throws {
        let plugins = try TestPlugins.directory()
        let staging = try TestPlugins.probe(into: plugins, id: "late", name: ".liblate.new", defines: ["-DPROBE_INIT_SLEEP_MS=1000"])
        let host = try HostProcess(plugins: plugins, extraArguments: ["--watch", "--watch-settle-ms", "20"])
        #expect(try host.call("host.status")["modules"] == [])
        #expect(rename(staging, "\(plugins)/liblate.so") == 0)
        _ = try host.waitForStderr(containing: "appeared: loading it")
        let answer = try host.request("late.ping")
        #expect(answer["result"] == "pong", "\(answer.text)")
        #expect(try host.shutdown() == 0)
    }
}
