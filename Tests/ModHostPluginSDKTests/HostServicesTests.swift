import CModHost
import Foundation
import ModHostPluginSDK
import Testing

@Suite struct HostServicesTests {
    let harness = PluginHarness(entry: Arithmetic.pluginEntry())

    @Test func storeRoundTrip() {
        #expect(harness.outcome("put", #"["greeting", "hello"]"#) == .result("null"))
        #expect(harness.host.state.withLock { $0.store["greeting"] } == Data("hello".utf8))
        #expect(harness.outcome("get", #"["greeting"]"#) == .result(#""hello""#))
        #expect(harness.outcome("get", #"["nothing"]"#) == .result("null"))
    }

    @Test func timersFireTheirClosureOnce() throws {
        guard case .result(let id) = harness.outcome("remind", "[250]") else {
            Issue.record("remind failed")
            return
        }
        let timerID = try #require(UInt64(id))
        #expect(harness.host.state.withLock { $0.timers[timerID]?.delay } == 250)
        harness.host.fireTimer(timerID)
        #expect(harness.host.logs == ["reminder"])
        #expect(harness.host.state.withLock { $0.timers.isEmpty })
        // The SDK forgot the one-shot closure: a stray second fire runs nothing.
        harness.host.state.withLock { $0.timers[timerID] = $0.firedTimers[timerID] }
        harness.host.fireTimer(timerID)
        #expect(harness.host.logs == ["reminder"])
    }

    @Test func refusedPublishFailsTheCall() {
        #expect(harness.outcome("publishEmptyTopic")
            == .error(code: -32603, message: "publish : refused by the host", data: nil))
    }

    @Test func hostIsInertAfterDestroy() throws {
        let harness = PluginHarness(entry: Arithmetic.pluginEntry(), moduleID: "arith")
        #expect(harness.outcome("keepHost") == .result("null"))
        let host = try #require(keptHosts.withLock { $0.last })
        host.log(.info, "alive")
        #expect(harness.host.logs == ["alive"])
        harness.destroy()
        host.log(.info, "after destroy")
        #expect(harness.host.logs == ["alive"])
        #expect(host.nowMs == 0)
        #expect(throws: PluginError.self) { try host.publish("late") }
        #expect(throws: PluginError.self) { try host.store.put("k", "v") }
    }
}

/// Uses every `PluginHost` service the way a plugin's own code does.
@Suite struct HostHandleTests {
    final class Probe: Plugin, Sendable {
        static let id = "probe"
        static let version = "1.0.0"
        let host: PluginHost
        init(host: PluginHost, config: RawJSON) { self.host = host }
        static func register(_ methods: inout Methods<Probe>) {
            methods.add("run") { probe in try probe.exercise() }
        }

        struct Reading: Codable, Equatable {
            let celsius: Double
        }

        func exercise() throws -> [String] {
            var seen: [String] = []
            host.log(.warning, "probe running")
            try host.publish("probe.reading", Reading(celsius: 21.5))
            try host.publish("probe.empty")
            try host.subscribe("alarm.*")
            try host.unsubscribe("alarm.*")
            try host.store.put("a/1", "one")
            try host.store.put("a/2", encoding: Reading(celsius: 2))
            try host.store.put("b/1", Data([0, 1]))
            seen.append(try host.store.getString("a/1") ?? "-")
            seen.append("\(try host.store.get("a/2", decoding: Reading.self)?.celsius ?? -1)")
            seen.append(try host.store.list(prefix: "a/").map(\.key).joined(separator: ","))
            try host.store.delete("a/1")
            seen.append(try host.store.getString("a/1") ?? "deleted")
            seen.append("\(host.nowMs) \(host.now.timeIntervalSince1970)")
            seen.append("\(host.moduleID) \(host.serverID) \(host.dataDirectory)")
            let timer = try host.startTimer(after: .seconds(2), every: .milliseconds(500)) {}
            seen.append("\(host.cancelTimer(timer)) \(host.cancelTimer(timer))")
            return seen
        }
    }

    @Test func everyServiceReachesTheTable() throws {
        let harness = PluginHarness(entry: Probe.pluginEntry())
        let outcome = try #require(harness.outcome("run"))
        guard case .result(let json) = outcome else {
            Issue.record("run failed: \(outcome)")
            return
        }
        let seen = try JSONDecoder().decode([String].self, from: Data(json.utf8))
        #expect(seen == [
            "one", "2.0", "a/1,a/2", "deleted",
            "1700000000123 1700000000.123",
            "probe test-server /tmp/modhost-sdk-tests",
            "true false",
        ])
        harness.host.state.withLock { state in
            #expect(state.logs.map(\.level) == [MH_LOG_WARNING])
            #expect(state.published.map(\.topic) == ["probe.reading", "probe.empty"])
            #expect(state.published.map(\.data) == [#"{"celsius":21.5}"#, nil])
            #expect(state.subscriptions.isEmpty)
            #expect(state.timers.isEmpty)
        }
    }
}
