import Foundation
import ModHostTestKit
import Testing

/// What a misbehaving plugin or a hostile input must not do to the host: stall other modules,
/// hang unload or shutdown, crash it, or leave files behind.
@Suite struct RobustnessTests {
    private func probes(_ ids: [String], into plugins: String? = nil) throws -> String {
        let directory = try plugins ?? TestPlugins.directory()
        for id in ids { try TestPlugins.probe(into: directory, id: id) }
        return directory
    }

    @Test func blockedModulesDoNotStallOthers() throws {
        // More blocked modules than cores: each module has its own worker thread.
        let blocked = (1...6).map { "b\($0)" }
        let host = try HostProcess(plugins: try probes(blocked + ["free"]))
        #expect(try host.call("free.ping") == "pong")  // started: the start-up is not counted below
        for id in blocked {
            try host.send(raw: #"{"jsonrpc":"2.0","id":"\#(id)","method":"\#(id).sleep","params":[8000]}"#)
        }
        let started = Date()
        #expect(try host.call("free.ping") == "pong")
        #expect(Date().timeIntervalSince(started) < 5, "free.ping waited for blocked modules")
        for id in blocked { #expect(try host.response(id: .string(id), timeout: 30)["result"] == 8000) }
    }

    @Test func callsQueuedBehindABlockedCallTimeOut() throws {
        let host = try HostProcess(plugins: try probes(["p1"]), extraArguments: ["--call-timeout-ms", "300"])
        #expect(try host.call("p1.ping") == "pong")  // started: the start-up is not counted below
        try host.send(raw: #"{"jsonrpc":"2.0","id":"slow","method":"p1.sleep","params":[6000]}"#)
        let started = Date()
        let queued = try host.request("p1.ping")
        #expect(queued["error"]["code"] == -32004)
        #expect(Date().timeIntervalSince(started) < 4, "the queued call waited for the blocked one")
        // The blocked call itself is past its deadline too, although its plugin is still in handle.
        #expect(try host.response(id: "slow")["error"]["code"] == -32004)
    }

    @Test func unloadingAModuleStuckInACallIsBoundedAndTheHostServesOn() throws {
        let host = try HostProcess(plugins: try probes(["stuck", "other"]), extraArguments: ["--drain-timeout-ms", "300"])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"blocked","method":"stuck.sleep","params":[4000]}"#)
        try host.send(raw: #"{"jsonrpc":"2.0","id":"queued","method":"stuck.ping"}"#)
        try host.waitUntilRunning("stuck")
        let started = Date()
        try host.call("modules.unload", ["id": "stuck"])
        #expect(Date().timeIntervalSince(started) < 2.5, "unload waited for the stuck call")
        #expect(try host.response(id: "blocked")["error"]["code"] == -32001)
        #expect(try host.response(id: "queued")["error"]["code"] == -32001)
        try host.waitForStderr(containing: "abandoned stuck")
        #expect(try host.call("other.ping") == "pong")
        #expect(try host.call("modules.load", ["path": .string(TestPlugins.probe(into: TestPlugins.directory(), id: "stuck"))])["generation"] == 2)
        #expect(try host.call("stuck.ping") == "pong")
    }

    @Test func aSecondSignalEndsAShutdownThatIsWaiting() throws {
        let host = try HostProcess(plugins: try probes(["p1"]), extraArguments: ["--drain-timeout-ms", "30000"])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"blocked","method":"p1.sleep","params":[20000]}"#)
        try host.waitUntilRunning("p1")
        host.signal(SIGTERM)
        let started = Date()
        try host.waitForStderr(containing: "shutting down: SIGTERM")
        host.signal(SIGTERM)
        #expect(try host.waitForExit(timeout: 10) == 128 + SIGTERM)
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(host.stderrText.contains("second SIGTERM"))
    }

    @Test func leftoversOfAFailedInitAreCleanedUp() throws {
        let plugins = try TestPlugins.directory()
        let broken = try TestPlugins.broken(into: plugins, name: "libbroken.so", defines: ["-DMH_FIXTURE_INIT_FAILS=\"refusing\""])
        let host = try HostProcess(plugins: try probes(["p1"]), extraArguments: ["--manual-clock"])
        #expect(try host.request("modules.load", ["path": .string(broken)])["error"]["code"] == -32003)
        // The timer it started must neither fire (it would abort) nor block the clock; its
        // subscription must not swallow events.
        try host.advanceClock(by: 60_000)
        try host.call("events.publish", ["topic": "probe.in.x", "data": 1])
        #expect(try host.call("p1.ping") == "pong")
        #expect(try host.shutdown() == 0)
    }

    @Test func hostileNumbersAreRefusedNotACrash() throws {
        let host = try HostProcess(plugins: try probes(["p1"]), extraArguments: ["--manual-clock"])
        try host.call("events.subscribe", ["topics": ["probe.timer"]])
        #expect(try host.request("clock.advance", ["ms": .int(Int64.max)])["error"]["code"] == -32602)
        // A timer too far away to represent never fires.
        try host.call("p1.timer", [.int(Int64.max), 0])
        try host.advanceClock(by: 86_400_000)
        #expect(host.unreadLines.isEmpty)
        #expect(try host.call("p1.ping") == "pong")
    }

    @Test func lineOverTheLimitIsRefusedEvenWhenItsNewlineArrivesWithIt() throws {
        let host = try HostProcess(plugins: try probes(["p1"]), extraArguments: ["--max-line-bytes", "2000000"])
        let big = String(repeating: "z", count: 2_100_000)
        try host.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"p1.ping","params":["\#(big)"]}"#)
        let answer = try JSON(parsing: host.nextLine())
        #expect(answer["error"]["code"] == -32600)
        #expect(try host.call("p1.ping") == "pong")
    }

    @Test func publishedDataReachesSubscribersAsWritten() throws {
        let host = try HostProcess(plugins: try probes(["p1"]))
        try host.call("events.subscribe", ["topics": ["raw.*"]])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"pub","method":"events.publish","params":{"topic":"raw.x","data":{"b":1.0,"a":[2e3]}}}"#)
        let event = try host.nextLine()
        #expect(event.contains(#""data":{"b":1.0,"a":[2e3]}"#), "\(event)")
    }

    @Test func privateCopiesOfPluginsLeaveNothingBehind() throws {
        let temporary = try TemporaryDirectory.make(prefix: "modhost-tmp")
        let host = try HostProcess(plugins: try probes(["p1", "p2"]), environment: ["TMPDIR": temporary])
        #expect(try host.call("p2.ping") == "pong")
        let images = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(images.count == 1)
        for directory in images {
            // Only the lock file the host holds while it lives: the copies are unlinked once mapped.
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(temporary)/\(directory)") == ["lock"])
            let mode = try FileManager.default.attributesOfItem(atPath: "\(temporary)/\(directory)")[.posixPermissions] as? Int
            #expect(mode == 0o700)
        }
        #expect(try host.shutdown() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
    }
}
