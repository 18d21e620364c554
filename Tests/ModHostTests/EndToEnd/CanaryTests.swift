import Foundation
import ModHostTestKit
import Testing

/// Canary mode through the real binary (`modules.swap {mode: "canary", percent, stickyKey}`,
/// `modules.canary`): two builds of a module that declares MH_FLAG_MULTI_INSTANCE serve side by
/// side from one store; a session stays on one side; 100 promotes, 0 or a rollback returns.
@Suite struct CanaryTests {
    static let multiInstance = "-DPROBE_FLAGS=(MH_FLAG_UNLOADABLE|MH_FLAG_MULTI_INSTANCE)"
    let host: HostProcess
    let v2: String

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, defines: [Self.multiInstance])
        v2 = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so", defines: [Self.multiInstance])
        host = try HostProcess(plugins: plugins)
    }

    @discardableResult
    private func startCanary(_ percent: Int, stickyKey: String? = "/sessionId") throws -> JSON {
        var params: [String: JSON] = ["id": "probe", "path": .string(v2), "mode": "canary", "percent": .int(Int64(percent))]
        if let stickyKey { params["stickyKey"] = .string(stickyKey) }
        return try host.call("modules.swap", .object(params))
    }

    /// The version answering each session's `probe.version`, asked in batches of 500.
    private func versions(ofSessions count: Int, params: (Int) -> JSON) throws -> [String] {
        var answers: [String] = []
        answers.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: 500) {
            let range = start..<min(start + 500, count)
            let batch = JSON.array(range.map { n in
                .object(["jsonrpc": "2.0", "id": .int(Int64(n)), "method": "probe.version", "params": params(n)])
            })
            try host.send(raw: batch.text)
            let reply = try JSON(parsing: try host.nextLine())
            let byID = Dictionary(uniqueKeysWithValues: (reply.array ?? []).map { ($0["id"].int ?? -1, $0["result"].string ?? "?") })
            answers += range.map { byID[Int64($0)] ?? "missing" }
        }
        return answers
    }

    @Test func aStickyCanaryKeepsEverySessionOnOneSideAndTakesItsShare() throws {
        let started = try startCanary(10)
        #expect(started["mode"] == "canary")
        #expect(started["serving"] == "1.0.0")
        #expect(started["canary"] == "2.0.0")
        #expect(started["percent"] == 10)
        let sessions = 10_000
        let first = try versions(ofSessions: sessions) { ["sessionId": .string("session-\($0)")] }
        let second = try versions(ofSessions: sessions) { ["sessionId": .string("session-\($0)"), "turn": 2] }
        #expect(first == second, "a session changed sides")
        #expect(Set(first) == ["1.0.0", "2.0.0"])
        let share = Double(first.filter { $0 == "2.0.0" }.count) / Double(sessions) * 100
        #expect(abs(share - 10) <= 2, "the canary took \(share)% of 10,000 sessions")
        // A call without the sticky value stays on the serving side.
        #expect(try host.call("probe.version") == "1.0.0")
        #expect(try host.call("probe.version", ["other": 1]) == "1.0.0")
        // Each generation counts its own calls.
        let metrics = try host.call("modules.metrics", ["id": "probe"])
        let generations = metrics["modules"][0]["generations"].array ?? []
        let counted = Dictionary(uniqueKeysWithValues: generations.map { generation in
            (generation["version"].string ?? "?", (generation["methods"].array ?? []).first { $0["method"] == "version" }?["calls"].int ?? 0)
        })
        #expect(counted["2.0.0"].map { Double($0) / Double(2 * sessions) * 100 } .map { abs($0 - share) < 0.01 } == true, "\(metrics.text)")
        #expect((counted["1.0.0"] ?? 0) + (counted["2.0.0"] ?? 0) == Int64(2 * sessions + 2))
        let described = try host.call("modules.describe", ["id": "probe"])
        #expect(described["canary"]["version"] == "2.0.0")
        #expect(described["canary"]["percent"] == 10)
        #expect(described["canary"]["stickyKey"] == "/sessionId")
        #expect(described["flags"]["multiInstance"] == true)
    }

    @Test func withoutAStickyKeyARandomShareGoesToTheCanary() throws {
        try startCanary(25, stickyKey: nil)
        let answers = try versions(ofSessions: 4_000) { _ in [] }
        #expect(Set(answers) == ["1.0.0", "2.0.0"])
        let share = Double(answers.filter { $0 == "2.0.0" }.count) / 40
        #expect(abs(share - 25) <= 3, "the canary took \(share)% of 4,000 calls")
    }

    @Test func steppingTo100PromotesAndTheOldGenerationIsKeptForRollback() throws {
        try startCanary(50)
        // Both sides share the store: what one writes the other reads.
        let onCanary = try (0..<200).map { "s\($0)" }.first { try host.call("probe.version", ["sessionId": .string($0)]) == "2.0.0" }
        let onServing = try (0..<200).map { "s\($0)" }.first { try host.call("probe.version", ["sessionId": .string($0)]) == "1.0.0" }
        let canarySession = try #require(onCanary)
        let servingSession = try #require(onServing)
        #expect(try host.call("probe.store_put", ["sessionId": .string(canarySession), "key": "k", "value": "from-canary"]) == true)
        #expect(try host.call("probe.store_get", ["sessionId": .string(servingSession), "key": "k"]) == "from-canary")
        let step = try host.call("modules.canary", ["id": "probe", "percent": 75])
        #expect(step["percent"] == 75)
        #expect(step["canary"] == "2.0.0")
        #expect(step["ended"] == .null)
        try host.call("events.subscribe", ["topics": ["modules.swapped"]])
        let (swapped, promoted) = try host.callPublishing("modules.swapped", "modules.canary", ["id": "probe", "percent": 100])
        #expect(promoted["ended"] == "promoted")
        #expect(promoted["serving"] == "2.0.0")
        #expect(swapped["data"]["from"] == "1.0.0")
        #expect(swapped["data"]["to"] == "2.0.0")
        #expect(try host.call("probe.version", ["sessionId": .string(servingSession)]) == "2.0.0")
        let described = try host.call("modules.describe", ["id": "probe"])
        #expect(described["canary"] == .null)
        #expect(described["version"] == "2.0.0")
        #expect(described["previousVersion"] == "1.0.0")
        #expect(try host.call("modules.rollback", ["id": "probe"])["to"] == "1.0.0")
        #expect(try host.call("probe.version", ["sessionId": .string(canarySession)]) == "1.0.0")
        #expect(try host.call("probe.store_get", ["key": "k"]) == "from-canary")
    }

    @Test func zeroOrARollbackEndsTheCanary() throws {
        try startCanary(50)
        let ended = try host.call("modules.canary", ["id": "probe", "percent": 0])
        #expect(ended["ended"] == "rolled_back")
        #expect(ended["serving"] == "1.0.0")
        #expect(try versions(ofSessions: 200) { ["sessionId": .string("s\($0)")] }.allSatisfy { $0 == "1.0.0" })
        #expect(try host.call("modules.describe", ["id": "probe"])["canary"] == .null)
        try startCanary(50)
        try host.call("events.subscribe", ["topics": ["modules.canary_ended"]])
        let (event, rolledBack) = try host.callPublishing("modules.canary_ended", "modules.rollback", ["id": "probe"])
        #expect(rolledBack["from"] == "2.0.0")
        #expect(rolledBack["to"] == "1.0.0")
        #expect(event["data"]["from"] == "2.0.0")
        #expect(try versions(ofSessions: 200) { ["sessionId": .string("s\($0)")] }.allSatisfy { $0 == "1.0.0" })
        // Nothing left to step.
        #expect(try host.request("modules.canary", ["id": "probe", "percent": 50])["error"]["code"] == -32005)
    }

    @Test func oneChangeAtATimeAndClearErrors() throws {
        func error(_ params: JSON) throws -> JSON { try host.request("modules.swap", params)["error"] }
        let base: [String: JSON] = ["id": "probe", "path": .string(v2), "mode": "canary"]
        #expect(try error(.object(base))["message"].string?.contains("\"percent\"") == true)
        #expect(try error(.object(base.merging(["percent": 150]) { $1 }))["code"] == -32602)
        #expect(try error(.object(base.merging(["percent": 0]) { $1 }))["code"] == -32602)
        let badKey = try error(.object(base.merging(["percent": 10, "stickyKey": "sessionId"]) { $1 }))
        #expect(badKey["code"] == -32602)
        #expect(badKey["message"].string?.contains("JSON pointer") == true, "\(badKey)")
        #expect(try error(["id": "probe", "path": .string(v2), "percent": 10])["message"].string?.contains("mode \"canary\"") == true)
        #expect(try host.call("probe.version") == "1.0.0", "a refused canary changes nothing")
        try startCanary(10)
        #expect(try error(["id": "probe", "path": .string(v2), "mode": "shadow"])["code"] == -32005)
        #expect(try error(["id": "probe", "path": .string(v2)])["code"] == -32005)
        #expect(try host.request("modules.canary", ["id": "probe", "percent": 101])["error"]["code"] == -32602)
    }

    @Test func aModuleThatDoesNotDeclareTwoInstancesIsRefused() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let single = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so")
        let host = try HostProcess(plugins: plugins)
        let refused = try host.request("modules.swap", ["id": "probe", "path": .string(single), "mode": "canary", "percent": 10])["error"]
        #expect(refused["code"] == -32005)
        #expect(refused["message"].string?.contains("MH_FLAG_MULTI_INSTANCE") == true, "\(refused)")
        #expect(refused["message"].string?.contains("shadow") == true, "the message names what to do instead")
        #expect(try host.call("probe.version") == "1.0.0")
        // The serving build declares it, the new one does not: refused too, naming the new one.
        let refusedNew = try self.host.request("modules.swap", ["id": "probe", "path": .string(single), "mode": "canary", "percent": 10])["error"]
        #expect(refusedNew["code"] == -32005)
        #expect(refusedNew["message"].string?.contains("2.0.0") == true, "\(refusedNew)")
        #expect(try self.host.call("probe.version") == "1.0.0")
    }

    /// A call stuck in the canary when its module is unloaded: the canary is abandoned like the
    /// serving instance (never destroyed or unmapped under the running call), and the host
    /// serves on once the call returns.
    @Test func aCallStuckInTheCanaryAtUnloadAbandonsItAndTheHostServesOn() throws {
        let host = try HostProcess(plugins: try TestPlugins.directory(), extraArguments: ["--drain-timeout-ms", "300"])
        let v1 = try TestPlugins.probe(into: try TestPlugins.directory(), defines: [Self.multiInstance])
        try host.call("modules.load", ["path": .string(v1)])
        try host.call("modules.swap", ["id": "probe", "path": .string(v2), "mode": "canary", "percent": 50, "stickyKey": "/0"])
        // A sleep whose [ms] lands on the canary (probe.version with the same params says so).
        let ms = try #require((5_000..<5_100).first { try host.call("probe.version", [.int(Int64($0))]) == "2.0.0" })
        try host.send(raw: #"{"jsonrpc":"2.0","id":"stuck","method":"probe.sleep","params":[\#(ms)]}"#)
        try host.waitUntilRunning("probe")
        try host.call("modules.unload", ["id": "probe"])
        try host.waitForStderr(containing: "abandoned probe")
        // The canary's handle returns into code that is still mapped, then finds its context gone.
        try host.waitForStderr(containing: "sleep \(ms): store_put returned -2")
        #expect(try host.call("host.status")["modules"] == [])
        try host.call("modules.load", ["path": .string(v1)])
        #expect(try host.call("probe.version") == "1.0.0")
        #expect(try host.shutdown() == 0)
    }
}
