import Foundation
import ModHostTestKit
import Testing

/// A caller is never held past its call's deadline, even by a plugin stuck inside `handle`, and
/// a stuck plugin costs shutdown and unload one drain timeout, not more.
@Suite struct CallDeadlineTests {
    private func host(_ ids: [String], _ arguments: [String]) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        for id in ids { try TestPlugins.probe(into: plugins, id: id) }
        return try HostProcess(plugins: plugins, extraArguments: arguments)
    }

    @Test func aCallStuckInsideHandleTimesOutForItsCaller() throws {
        let host = try host(["p1"], ["--call-timeout-ms", "1500"])
        #expect(try host.call("p1.ping") == "pong")  // started: the start-up is not the call's time
        let started = Date()
        // probe.sleep blocks inside handle for 6 s: far past the 1.5 s deadline.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"stuck","method":"p1.sleep","params":[6000]}"#)
        let answer = try host.response(id: "stuck")
        #expect(answer["error"]["code"] == -32004, "\(answer)")
        #expect(answer["error"]["message"].string?.contains("1500 ms") == true, "\(answer)")
        #expect(Date().timeIntervalSince(started) < 5, "the caller waited for the plugin to return")
        // The plugin's late respond is refused, and the caller hears of the call exactly once.
        try host.waitForStderr(containing: "sleep 6000: respond returned -2")
        #expect(try host.call("p1.ping") == "pong")
        #expect(host.stdoutLines.filter { $0.contains(#""id":"stuck""#) }.count == 1)
    }

    @Test func aTypedExportStillRunningTimesOutForItsCaller() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.typed(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--call-timeout-ms", "1500"])
        // typed.nap blocks inside the C function for 4 s: far past the 1.5 s deadline.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"nap","method":"typed.nap","params":[4000]}"#)
        let answer = try host.response(id: "nap")
        #expect(answer["error"]["code"] == -32004, "\(answer)")
        // Once the function returns, its late result is dropped: one answer, and the module serves.
        // (A call behind the nap times out too, until the nap returns.)
        #expect(Poll.until { (try? host.call("typed.nap", [1])) == 1 })
        #expect(host.stdoutLines.filter { $0.contains(#""id":"nap""#) }.count == 1)
    }

    @Test func shutdownWithAStuckCallTakesOneDrainTimeout() throws {
        let host = try host(["stuck", "other"], ["--drain-timeout-ms", "4000"])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"blocked","method":"stuck.sleep","params":[60000]}"#)
        try host.waitUntilRunning("stuck")
        let started = Date()
        // Two drains would take 8 s.
        #expect(try host.shutdown(timeout: 30) == 0)
        #expect(Date().timeIntervalSince(started) < 7, "shutdown took \(Date().timeIntervalSince(started)) s")
        #expect(host.stderrText.contains("abandoned stuck"))
    }

    @Test func callsQueuedBehindAStuckCallAreAnsweredWhenItsModuleIsUnloaded() throws {
        let host = try host(["stuck"], ["--drain-timeout-ms", "300"])
        // One write: the module's worker takes all four calls at once, then sticks in the first.
        try host.send(raw: [
            #"{"jsonrpc":"2.0","id":"blocked","method":"stuck.sleep","params":[6000]}"#,
            #"{"jsonrpc":"2.0","id":"a","method":"stuck.ping"}"#,
            #"{"jsonrpc":"2.0","id":"b","method":"stuck.ping"}"#,
            #"{"jsonrpc":"2.0","id":"c","method":"stuck.ping"}"#,
        ].joined(separator: "\n"))
        try host.waitUntilRunning("stuck")
        let started = Date()
        try host.call("modules.unload", ["id": "stuck"])
        for id in ["a", "b", "c"] {
            #expect(try host.response(id: .string(id))["error"]["code"] == -32001)
        }
        #expect(Date().timeIntervalSince(started) < 4, "the queued calls waited for the stuck one to return")
    }

    @Test func unloadWithAStuckCallTakesOneDrainTimeout() throws {
        let host = try host(["stuck"], ["--drain-timeout-ms", "4000"])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"blocked","method":"stuck.sleep","params":[60000]}"#)
        try host.waitUntilRunning("stuck")
        let started = Date()
        try host.call("modules.unload", ["id": "stuck"], timeout: 30)
        #expect(Date().timeIntervalSince(started) < 7, "unload took \(Date().timeIntervalSince(started)) s")
        #expect(try host.response(id: "blocked")["error"]["code"] == -32001)
    }
}
