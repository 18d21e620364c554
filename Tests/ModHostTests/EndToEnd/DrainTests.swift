import Foundation
import ModHostTestKit
import Testing

/// Waiting for a module's calls to finish (a swap's drain, unload, shutdown) sleeps until the
/// last one completes: it does not poll.
@Suite struct DrainTests {
    /// Context switches of all the host's threads so far (`/proc/<pid>/task/*/status`).
    private func contextSwitches(_ host: HostProcess) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(host.process.processIdentifier)/task")) ?? []
        return tasks.reduce(0) { total, task in
            let status = ProcFS.read(host.process.processIdentifier, "task/\(task)/status") ?? ""
            return total + status.split(separator: "\n").filter { $0.contains("ctxt_switches") }
                .compactMap { $0.split(separator: "\t").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
                .reduce(0, +)
        }
    }

    @Test func aSwapWaitingForAPendingCallDoesNotPoll() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let v2 = try TestPlugins.probe(into: TestPlugins.directory(), id: "p1", version: "2.0.0")
        let host = try HostProcess(plugins: plugins, extraArguments: ["--call-timeout-ms", "1500"])
        // A call that stays pending until its deadline, 1.5 s away: the swap drains until then.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"pending","method":"p1.never"}"#)
        try host.waitUntilRunning("p1")
        try host.send(raw: #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"p1","path":"\#(v2)"}}"#)
        try host.waitUntilHolding("p1")
        let before = contextSwitches(host)
        let swap = try host.response(id: "swap")
        let switches = contextSwitches(host) - before
        #expect(swap["result"]["to"] == "2.0.0", "\(swap)")
        #expect(try host.response(id: "pending")["error"]["code"] == -32004)
        // Polling every 100 µs would switch about 10,000 times a second; the host's own timers
        // (the 50 ms timeout sweep) account for a few dozen.
        #expect(switches < 300, "\(switches) context switches while the swap drained for about a second")
    }

    @Test func anUnloadWaitingForAPendingCallDoesNotPoll() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let host = try HostProcess(plugins: plugins, extraArguments: ["--drain-timeout-ms", "1500"])
        // A call that stays pending: the unload waits the whole drain timeout for it.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"pending","method":"p1.never"}"#)
        try host.waitUntilRunning("p1")
        let before = contextSwitches(host)
        try host.call("modules.unload", ["id": "p1"])
        let switches = contextSwitches(host) - before
        #expect(try host.response(id: "pending")["error"]["code"] == -32001)
        // Polling every millisecond would switch about 1,500 times in the drain.
        #expect(switches < 300, "\(switches) context switches while the unload drained for 1.5 s")
    }
}
