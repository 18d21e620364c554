import Foundation
import ModHostTestKit
import Testing

/// `MH_FLAG_CONCURRENT` does what `modhost.h` says: handle, typed exports, on_event, timer and
/// reply callbacks of such a module overlap; without the flag none of them do; lifecycle
/// entries never overlap anything. `Fixtures/concurrent.c` meets entries at a meeting point
/// and reports how many were inside at once.
@Suite struct ConcurrencyTests {
    /// How long an entry waits at the meeting point for the others (real time). Entries that
    /// meet return as soon as the last arrives; the wait is only spent when they cannot meet.
    static let patienceMs: Int64 = 10_000

    let host: HostProcess

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.concurrent(into: plugins)
        host = try HostProcess(plugins: plugins)
        try host.call("events.subscribe", ["topics": ["conc.met"]])
    }

    /// Sends a request without waiting; returns its id.
    private func send(_ method: String, _ params: JSON) throws -> JSON {
        let id = JSON.int(Int64(host.takeID()))
        try host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": .string(method), "params": params]).text)
        return id
    }

    /// A call, a typed export, an event and a timer are inside the module at once.
    @Test func callsExportsEventsAndTimersOverlap() throws {
        let meet: JSON = [4, .int(Self.patienceMs)]
        let call = try send("conc.meet", meet)
        let export = try send("conc.meet_export", meet)
        try host.call("events.publish", ["topic": "conc.meet", "data": meet])
        #expect(try host.call("conc.timer", meet) == true)
        #expect(try host.response(id: call)["result"] == 4)
        #expect(try host.response(id: export)["result"] == 4)
        var met: [String: JSON] = [:]
        for _ in 0..<2 {
            let data = try host.nextEvent(topic: "conc.met")["data"]
            met[data["entry"].string ?? "?"] = data["most"]
        }
        #expect(met == ["event": 4, "timer": 4])
        #expect(try host.call("conc.peak") == 4)
    }

    @Test func repliesOverlapCalls() throws {
        let meet: JSON = [2, .int(Self.patienceMs)]
        #expect(try host.call("conc.reply", meet) == true)
        #expect(try host.call("conc.meet", meet) == 2)
        #expect(try host.nextEvent(topic: "conc.met")["data"] == ["entry": "reply", "most": 2])
    }

    /// Two firings of one repeating timer may run at once in a concurrent module: once
    /// `timer_cancel` returns, neither is still running (modhost.h: "fn is not called for that
    /// timer again" and a firing under way elsewhere is waited for).
    @Test func timerCancelWaitsForEveryFiringUnderWay() throws {
        for _ in 0..<5 {
            let answer = try host.call("conc.cancel_busy", [2, .int(Self.patienceMs)])
            #expect(answer[0].int ?? 0 >= 2, "the firings did not overlap: \(answer)")
            #expect(answer[1] == 0, "timer_cancel returned while a firing was still running: \(answer)")
        }
    }

    /// Start, stop, export_state and destroy run alone: an unload waits for the entries inside.
    @Test func lifecycleEntriesNeverOverlap() throws {
        let meet: JSON = [3, 5000]  // two entries that cannot meet a third: they leave after 5 s
        let first = try send("conc.meet", meet)
        let second = try send("conc.meet", meet)
        guard try Poll.until(every: .milliseconds(2), { try host.call("modules.describe", ["id": "conc"])["openCalls"] == 2 }) else {
            throw HostProcessError("the two calls never were inside together", stderr: host.stderrText)
        }
        try host.call("modules.unload", ["id": "conc"])
        #expect(try host.response(id: first)["result"] == 2)
        #expect(try host.response(id: second)["result"] == 2)
        let log = try host.waitForStderr(containing: "destroy: ")
        #expect(log.contains("stop: 0 entries inside") && log.contains("destroy: 0 entries inside"), "\(log)")
        #expect(log.contains("start: 0 entries inside"))
    }
}

/// The same module without the flag: nothing overlaps, whatever the entry.
@Suite struct SerialModuleTests {
    @Test func noEntryOverlapsAnother() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.concurrent(into: plugins, serial: true)
        let host = try HostProcess(plugins: plugins)
        try host.call("events.subscribe", ["topics": ["conc.met"]])
        // They cannot meet: each waits its 300 ms alone, one after the other.
        let meet: JSON = [2, 300]
        var ids: [JSON] = []
        for method in ["conc.meet", "conc.meet_export"] {
            let id = JSON.int(Int64(host.takeID()))
            try host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": .string(method), "params": meet]).text)
            ids.append(id)
        }
        try host.call("events.publish", ["topic": "conc.meet", "data": meet])
        #expect(try host.call("conc.timer", meet) == true)
        #expect(try host.call("conc.reply", meet) == true)
        for id in ids { #expect(try host.response(id: id)["result"] == 1) }
        var met: [String: JSON] = [:]
        for _ in 0..<3 {
            let data = try host.nextEvent(topic: "conc.met")["data"]
            met[data["entry"].string ?? "?"] = data["most"]
        }
        #expect(met == ["event": 1, "timer": 1, "reply": 1])
        #expect(try host.call("conc.peak") == 1)
        #expect(try host.shutdown() == 0)
    }
}
