import Foundation
import ModHostTestKit
import Testing

/// Instructions, persistence across kill -9, hot swap, idle expiry, the cap, `requires`.
@Suite struct RoutingLifecycleTests {
    static let pools = [RoutingBench.pool("main", ["openai.primary.gpt-4", "openai.backup.gpt-4", "glm.k1.glm-4.7"], weights: [5, 1, 1])]

    @Test func instructionsOfEveryFormApplyAndMalformedOnesAreReported() throws {
        let bench = try RoutingBench(pools: Self.pools)
        let text = "a<**!glm,openai**>b<**#openai.2,glm.glm-4.7**><**@glm.glm-4.7**><**!openai.gpt-4**><**openai.primary.gpt-4**>"
            + "<**stopMessage:\"继续\",2**>c<**stopMessage:oops**><**#openai.9**><**what ever**><**!a.m,b**><**#glm.k1.glm-4.7**>"
        let answer = try bench.apply(text)
        #expect(answer["text"] == "abc", "\(answer)")
        #expect(answer["applied"].array?.count == 6, "\(answer)")
        let ignored = answer["ignored"].array ?? []
        #expect(ignored.map { $0["marker"] } == ["<**stopMessage:oops**>", "<**#openai.9**>", "<**what ever**>", "<**!a.m,b**>", "<**#glm.k1.glm-4.7**>"])
        #expect(ignored[1]["reason"].string?.contains("provider openai has 2 keys") == true, "\(ignored)")
        let state = answer["state"]
        #expect(state["allowedProviders"] == ["glm", "openai"] && state["disabledKeys"] == ["openai.backup"] && state["disabledModels"] == [])
        #expect(state["stickyTarget"] == "openai.gpt-4" && state["forcedTarget"] == "openai.primary.gpt-4")
        #expect(state["stopMessage"] == ["text": "继续", "max": 2, "used": 0])
        #expect(try bench.host.call("routing.takeStopMessage", ["s"]) == ["text": "继续", "max": 2, "used": 1])
        #expect(try bench.host.call("routing.takeStopMessage", ["s"])["used"] == 2)
        #expect(try bench.host.call("routing.takeStopMessage", ["s"]) == .null)
        let cleared = try bench.apply("<**clear**> <**#glm**>")
        #expect(cleared["ignored"][0]["marker"] == "<**#glm**>" && cleared["state"]["stickyTarget"] == .null, "\(cleared)")
        let bad = try bench.host.expectFailure("routing.applyInstructions", ["sessionId": "s"])
        #expect(bad["code"] == -32602 && bad["message"].string?.contains("text") == true, "\(bad)")
    }

    @Test func sessionsPoolsAndTheRoundRobinPositionSurviveKillNine() throws {
        let bench = try RoutingBench(pools: Self.pools)
        try bench.host.call("routing.setPool", ["pool": "extra", "targets": [["target": "x.k.m"]]])
        _ = try bench.apply("<**#glm**> <**stopMessage:\"go\",3**>")
        _ = try bench.host.call("routing.takeStopMessage", ["s"])
        let first = try (0..<3).map { _ in try bench.select("t") }
        // The position is written behind, a second after the select moved it (the wake-up runs
        // before the next call to the module, so `routing.pools` answers after the write).
        try bench.harness.advance(by: 1_000)
        _ = try bench.host.call("routing.pools")
        let restarted = RoutingBench(try bench.harness.killAndRestart(clockStart: RoutingBench.start + 60_000))
        let state = try restarted.host.call("routing.get", ["s"])
        #expect(state["disabledProviders"] == ["glm"] && state["stopMessage"]["used"] == 1, "\(state)")
        #expect(try restarted.host.call("routing.pools")["pools"].array?.map { $0["pool"] } == ["main", "extra"])
        let rest = try (0..<4).map { _ in try restarted.select("t") }
        #expect((first + rest).map { String($0.prefix(2)) } == ["op", "op", "op", "op", "gl", "op", "op"])
        #expect((first + rest)[2] == "openai.backup.gpt-4" && (first + rest)[4] == "glm.k1.glm-4.7")
    }

    @Test func aHotSwapKeepsEverySessionAndTheRoundRobinPosition() throws {
        let bench = try RoutingBench(pools: Self.pools)
        _ = try bench.apply("<**#glm**>", session: "keep")
        let first = try (0..<3).map { _ in try bench.select("t") }
        let copy = try TemporaryDirectory.make(prefix: "routing-swap")
        try PluginBuilder.copyBuilt("libRouting.so", into: copy)
        let swapped = try bench.host.call("modules.swap", ["id": "routing", "path": .string("\(copy)/libRouting.so")])
        #expect(swapped["to"] == "1.0.0", "\(swapped)")
        #expect(try bench.host.call("routing.get", ["keep"])["disabledProviders"] == ["glm"])
        let rest = try (0..<4).map { _ in try bench.select("t") }
        #expect((first + rest).map { String($0.prefix(1)) }.joined() == "oooogoo")
    }

    @Test func idleSessionsExpireAfterSevenDaysOnTheHostClock() throws {
        let bench = try RoutingBench(pools: Self.pools)
        _ = try bench.apply("<**#glm**>", session: "old")
        _ = try bench.harness.advance(by: 6 * 86_400_000)
        _ = try bench.apply("<**#glm**>", session: "young")
        _ = try bench.harness.advance(by: 86_400_000)
        let sessions = try bench.host.call("routing.listSessions")["sessions"].array?.map { $0["sessionId"] }
        #expect(sessions == ["young"])
    }

    @Test func atTheSessionCapTheIdlestAreDroppedFirst() throws {
        let bench = try RoutingBench(pools: Self.pools, extra: ["maxSessions": 3])
        for (index, id) in ["a", "b", "c"].enumerated() {
            _ = try bench.harness.advance(by: Int64(index + 1) * 1000)
            _ = try bench.apply("<**#glm**>", session: id)
        }
        _ = try bench.apply("<**#openai**>", session: "a")  // a is now the freshest
        _ = try bench.apply("<**#glm**>", session: "d")
        #expect(try bench.host.call("routing.listSessions")["sessions"].array?.map { $0["sessionId"] } == ["a", "c", "d"])
    }

    @Test func withoutHealthRoutingRefusesToStartNamingIt() throws {
        let harness = try ModuleHarness(modules: ["libRouting.so"])
        let line = try harness.host.waitForStderr(containing: "requires")
        #expect(line.contains("health"), "\(line)")
        #expect(try harness.host.expectFailure("routing.pools")["code"] == -32601, "routing does not serve")
    }
}
