import ModHostTestKit
import Testing

/// `routing.select` through the real binary with health loaded: health's word moves selection,
/// filters, forced, sticky, fallback, the failure with `retryAfterMs`, nginx's sequence.
@Suite struct RoutingSelectTests {
    @Test func withNoConfigThereAreNoPoolsAndSelectSaysSo() throws {
        let bench = try RoutingBench()
        #expect(try bench.host.call("routing.pools") == ["pools": []])
        let error = try bench.selectFailure()
        #expect(error["code"] == -32000 && error["data"]["reason"] == "no_target_available", "\(error)")
        #expect(error["data"]["detail"].string?.contains("no pool is configured") == true, "\(error)")
    }

    /// A select asks health twice, one call at a time: caller, callee and replies run on the
    /// thread that read the call (the host's deferred run, the SDK's host-thread executor), so
    /// the host's threads wait about once a call (in its read), not the ten or more times that
    /// waking Swift's pool and two modules' workers took. The bound is far above the target (1.5)
    /// so a loaded machine, whose reading thread more often changes, never fails it.
    @Test func aSelectAsksHealthWithoutWakingAThreadPerHop() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "b.k1.m"])])
        for _ in 0..<20 { _ = try bench.select() }
        let pid = bench.host.process.pid
        let before = ProcFS.voluntarySwitches(of: pid)
        let calls = 300
        for _ in 0..<calls { _ = try bench.select() }
        let perCall = Double(ProcFS.voluntarySwitches(of: pid) - before) / Double(calls)
        #expect(perCall < 5, "\(perCall) voluntary switches a routing.select")
    }

    @Test func a429MovesSelectionOffTheKeyAndBackWhenTheCooldownEnds() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "b.k1.m"])])
        #expect(try Set((0..<2).map { _ in try bench.select() }) == ["a.k1.m", "b.k1.m"])
        try bench.rateLimit("a.k1", seconds: 30)
        #expect(try (0..<4).map { _ in try bench.select() } == Array(repeating: "b.k1.m", count: 4))
        _ = try bench.harness.advance(by: 30_000)
        #expect(try (0..<4).map { _ in try bench.select() }.contains("a.k1.m"))
    }

    @Test func aTokensReauthRequiredMovesSelectionOffEveryKeyOfThatToken() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["openai.k1.gpt", "openai.k2.gpt", "glm.g1.glm"])])
        try bench.host.call("events.publish", ["topic": "token.reauth_required",
                                               "data": ["id": "openai-oauth-1-k1", "providerKeys": ["openai.k1", "openai.k2"]]])
        #expect(try (0..<4).map { _ in try bench.select() } == Array(repeating: "glm.g1.glm", count: 4))
        try bench.host.call("events.publish", ["topic": "token.refreshed", "data": ["id": "openai-oauth-1-k1", "providerKeys": ["openai.k1", "openai.k2"]]])
        #expect(try Set((0..<3).map { _ in try bench.select() }).count == 3)
    }

    @Test func stickyIsClearedWhenAllItsKeysCoolDown() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "a.k2.m", "b.k1.m"])])
        try bench.host.call("events.subscribe", ["topics": ["routing.sticky_cleared"]])
        #expect(try bench.apply("<**!a.m**> go")["applied"] == ["<**!a.m**>"])
        #expect(try Set((0..<4).map { _ in try bench.select() }) == ["a.k1.m", "a.k2.m"], "sticky rotates the model's keys")
        try bench.rateLimit("a.k1", seconds: 60)
        #expect(try bench.select() == "a.k2.m", "one key left")
        try bench.rateLimit("a.k2", seconds: 60)
        let answer = try bench.host.call("routing.select", ["sessionId": "s"])
        #expect(answer["target"] == "b.k1.m" && answer["via"] == "pool", "\(answer)")
        let event = try bench.host.nextEvent(topic: "routing.sticky_cleared")
        #expect(event["data"]["sessionId"] == "s" && event["data"]["reason"].string?.contains("a.m") == true, "\(event)")
        #expect(try bench.host.call("routing.get", ["s"])["stickyTarget"] == .null)
    }

    @Test func aForcedTargetThatIsDisabledFailsWithDisabledAndIsConsumed() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "b.k1.m"])])
        let applied = try bench.apply("<**#a**> <**a.k1.m**>")
        #expect(applied["applied"].array?.count == 2, "\(applied)")
        let error = try bench.selectFailure()
        #expect(error["data"]["reason"] == "forced_target_unavailable" && error["data"]["detail"] == "disabled", "\(error)")
        #expect(try bench.select() == "b.k1.m", "the forced target was consumed")
        _ = try bench.apply("<**b.k1.m**>")
        try bench.rateLimit("b.k1", seconds: 10)
        #expect(try bench.selectFailure()["data"]["detail"] == "unhealthy")
        _ = try bench.apply("<**zz.k.m**>")
        #expect(try bench.selectFailure()["data"]["detail"] == "not_found")
    }

    @Test func aPoolWithNothingUsableFallsBackToTheNext() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m"], fallback: ["backup"]), RoutingBench.pool("backup", ["b.k1.m"])])
        #expect(try bench.select() == "a.k1.m")
        try bench.rateLimit("a.k1", seconds: 30)
        let answer = try bench.host.call("routing.select", ["sessionId": "s"])
        #expect(answer["target"] == "b.k1.m" && answer["pool"] == "backup", "\(answer)")
    }

    @Test func nothingUsableAnswersRetryAfterMsAsHealthsEarliestRecovery() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "b.k1.m"])])
        try bench.rateLimit("a.k1", seconds: 60)
        try bench.rateLimit("b.k1", seconds: 25)
        _ = try bench.harness.advance(by: 5_000)
        let error = try bench.selectFailure()
        #expect(error["data"]["reason"] == "no_target_available" && error["data"]["retryAfterMs"] == 20_000, "\(error)")
        #expect(error["data"]["detail"].string?.contains("2 cooling down") == true, "\(error)")
        let dry = try bench.host.call("routing.select", ["sessionId": "s", "dryRun": true])
        #expect(dry["candidates"][1]["excluded"] == "cooldown until 2026-01-01T00:00:25Z", "\(dry)")
        #expect(dry["failure"]["reason"] == "no_target_available")
    }

    @Test func weightsFiveOneOneGiveNginxsSequenceAndDryRunsDoNotAdvanceIt() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k.m", "b.k.m", "c.k.m"], weights: [5, 1, 1])])
        var picks: [String] = []
        for _ in 0..<7 {
            let dry = try bench.host.call("routing.select", ["sessionId": "s", "dryRun": true])
            picks.append(try bench.select())
            #expect(dry["chosen"]["target"].string == picks.last, "a dry run shows the pick without taking it")
        }
        #expect(picks.map { String($0.prefix(1)) }.joined(separator: " ") == "a a b a c a a")
    }

    /// A dry run changes nothing: the forced target is still consumed by the next real select,
    /// and a sticky target whose keys all cooled down is cleared only by a real select.
    @Test func aDryRunLeavesTheForcedTargetAndStickyAsTheyWere() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "a.k2.m", "b.k1.m"])])
        _ = try bench.apply("<**b.k1.m**>")
        for _ in 0..<3 {
            #expect(try bench.host.call("routing.select", ["sessionId": "s", "dryRun": true])["chosen"]["target"] == "b.k1.m")
        }
        let forced = try bench.host.call("routing.select", ["sessionId": "s"])
        #expect(forced["target"] == "b.k1.m" && forced["via"] == "forced", "\(forced)")
        #expect(try bench.host.call("routing.select", ["sessionId": "s"])["via"] == "pool", "consumed once, by the real select")

        _ = try bench.apply("<**!a.m**>")
        try bench.rateLimit("a.k1", seconds: 60)
        try bench.rateLimit("a.k2", seconds: 60)
        let dry = try bench.host.call("routing.select", ["sessionId": "s", "dryRun": true])
        #expect(dry["chosen"]["target"] == "b.k1.m", "\(dry)")
        #expect(try bench.host.call("routing.get", ["s"])["stickyTarget"] != .null, "a dry run does not clear sticky")
        #expect(try bench.select() == "b.k1.m")
        #expect(try bench.host.call("routing.get", ["s"])["stickyTarget"] == .null, "a real select does")
    }

    /// Routing calls health through the registry: a hot swap of health in the middle of a
    /// stream of selects fails none of them, and health's cooldowns cross the swap.
    @Test func aHotSwapOfHealthDuringSelectsIsInvisibleToRouting() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "b.k1.m"])])
        try bench.rateLimit("a.k1", seconds: 30)
        let copy = try TemporaryDirectory.make(prefix: "health-swap")
        try PluginBuilder.copyBuilt("libHealth.so", into: copy)
        var ids: [JSON] = []
        func selects(_ count: Int) throws {
            for _ in 0..<count {
                let id = JSON.int(Int64(bench.host.takeID()))
                ids.append(id)
                try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": "routing.select", "params": ["sessionId": "s"]]).text)
            }
        }
        try selects(200)
        let swap = JSON.int(Int64(bench.host.takeID()))
        try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": swap, "method": "modules.swap",
                                              "params": ["id": "health", "path": .string("\(copy)/libHealth.so")]]).text)
        try selects(200)
        #expect(try bench.host.response(id: swap)["result"]["to"] == "1.0.0")
        for id in ids {
            let answer = try bench.host.response(id: id)
            #expect(answer["result"]["target"] == "b.k1.m", "\(answer)")
        }
        _ = try bench.harness.advance(by: 30_000)
        #expect(try (0..<4).map { _ in try bench.select() }.contains("a.k1.m"))
    }

    @Test func filtersOfTheServerWideSessionApplyUnderEverySession() throws {
        let bench = try RoutingBench(pools: [RoutingBench.pool("main", ["a.k1.m", "b.k1.m"])])
        _ = try bench.apply("<**#a**>", session: "*")
        #expect(try (0..<3).map { _ in try bench.select("other") } == Array(repeating: "b.k1.m", count: 3))
        let excluded = try bench.host.expectFailure("routing.select", ["sessionId": "other", "exclude": ["b.k1"]])
        #expect(excluded["data"]["detail"].string?.contains("1 disabled, 1 excluded") == true, "\(excluded)")
    }
}
