import Foundation
import ModHostTestKit
import Testing

/// The health module's state across a killed host and a hot swap, through the real host and
/// libHealth.so: unexpired cooldowns, open circuits and blacklists come back after kill -9,
/// expired ones do not; `modules.swap` to another copy of the library keeps every entry.
@Suite struct HealthLifecycleTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    /// Keys in every kind of state, from t0: cooldowns of 10 s, 60 s and 30 min, a circuit open
    /// for 30 s, an auth blacklist, a quota blacklist until midnight.
    private func populate(_ bench: HealthBench) throws {
        try bench.report("tiny", ["status": 429, "retryAfter": 10])
        try bench.report("short", ["status": 429, "retryAfter": 60])
        try bench.report("long", ["status": 429, "retryAfter": 1800])
        try bench.report("srv", status: 500, times: 3)
        try bench.report("auth", ["status": 401])
        try bench.report("quota", ["errorClass": "quota"])
    }

    // MARK: Persistence

    @Test func unexpiredEntriesSurviveAKilledHostAndExpiredOnesDoNot() throws {
        let first = try HealthBench()
        try populate(first)

        // 20 s later: "tiny" (10 s) has expired, the rest has not.
        let second = try first.killAndRestart(clockStart: t0 + 20 * B.second)
        try second.expect("tiny", "healthy", until: nil)
        try second.expect("short", "cooldown", until: t0 + 60 * B.second)
        try second.expect("long", "cooldown", until: t0 + 30 * B.minute)
        try second.expect("srv", "open", until: t0 + 30 * B.second)
        #expect(try second.status("srv")["trips"] == 1)
        try second.expect("auth", "blacklisted", until: nil)
        try second.expect("quota", "blacklisted", until: t0 + B.day)
        #expect(try second.snapshotKeys() == ["short", "long", "srv", "auth", "quota"])

        // The restored entries run on: the circuit goes halfOpen at its time, a failed probe
        // re-opens it for 60 s (its trips came back), the cooldown ends at its deadline.
        try second.at(t0 + 30 * B.second)
        #expect(try second.status("srv")["state"] == "halfOpen")
        #expect(try second.isAvailable("srv"))
        #expect(try second.report("srv", ["status": 500])["untilMs"] == .int(t0 + 90 * B.second))
        try second.expectOutUntil("short", "cooldown", until: t0 + 60 * B.second)

        // Killed again, restarted 2 h later: only the blacklists are left.
        let third = try second.killAndRestart(clockStart: t0 + 2 * B.hour)
        for key in ["tiny", "short", "long", "srv"] {
            try third.expect(key, "healthy", until: nil)
        }
        try third.expect("auth", "blacklisted", until: nil)
        try third.expect("quota", "blacklisted", until: t0 + B.day)
        #expect(try third.snapshotKeys() == ["auth", "quota"])

        // And the next day, only the auth blacklist.
        let fourth = try third.killAndRestart(clockStart: t0 + B.day)
        try fourth.expect("quota", "healthy", until: nil)
        try fourth.expect("auth", "blacklisted", until: nil)
        #expect(try fourth.snapshotKeys() == ["auth"])
    }

    /// Entries that expired while the host ran stay expired after kill -9; the others come back.
    @Test func entriesThatExpiredBeforeTheKillStayExpired() throws {
        let first = try HealthBench()
        try populate(first)
        try first.at(t0 + 40 * B.second)  // "tiny" and the circuit's open time are over
        try first.reportSuccess("srv")  // the circuit closes
        try first.at(t0 + 61 * B.second)  // "short" is over
        let second = try first.killAndRestart(clockStart: t0 + 61 * B.second)
        for key in ["tiny", "short", "srv"] {
            try second.expect(key, "healthy", until: nil)
        }
        try second.expect("long", "cooldown", until: t0 + 30 * B.minute)
        #expect(try second.snapshotKeys() == ["long", "auth", "quota"])
    }

    /// What a call changed is durable when it answers: a recovery and a reset survive kill -9 too.
    @Test func recoveriesAndResetsSurviveAKilledHost() throws {
        let first = try HealthBench()
        try populate(first)
        try first.host.call("events.publish", ["topic": "token.refreshed", "data": ["providerKey": "auth"]])
        try first.host.call("health.reset", ["providerKey": "long"])

        let second = try first.killAndRestart(clockStart: t0 + 20 * B.second)
        try second.expect("auth", "healthy", until: nil)
        try second.expect("long", "healthy", until: nil)
        try second.expect("short", "cooldown", until: t0 + 60 * B.second)
        #expect(try second.snapshotKeys() == ["short", "srv", "quota"])
    }

    /// A graceful shutdown keeps the same entries.
    @Test func entriesSurviveAGracefulRestart() throws {
        let first = try HealthBench()
        try populate(first)
        #expect(try first.host.shutdown() == 0)
        let second = try HealthBench(state: first.host.stateDirectory, clockStart: t0 + 20 * B.second)
        #expect(try second.snapshotKeys() == ["short", "long", "srv", "auth", "quota"])
        try second.expect("long", "cooldown", until: t0 + 30 * B.minute)
    }

    // MARK: Hot swap

    @Test func swapToAnotherCopyKeepsEveryEntry() throws {
        let bench = try HealthBench()
        try populate(bench)
        try bench.report("flaky", status: 500, times: 2)
        try bench.report("chain", ["status": 429])  // backoff step 1: 15 s
        try bench.at(t0 + 5 * B.second)
        let before = try bench.allStatuses()
        let snapshotBefore = try bench.snapshot()

        let builds = try TemporaryDirectory.make(prefix: "modhost-plugins")
        let copy = try PluginBuilder.copyBuilt("libHealth.so", into: builds, name: "libHealth-b.so")
        let swapped = try bench.host.call("modules.swap", ["id": "health", "path": .string(copy)])
        #expect(swapped["id"] == "health" && swapped["generation"] == 2, "\(swapped)")

        #expect(try bench.allStatuses() == before, "the swap changed the entries")
        #expect(try bench.snapshot() == snapshotBefore)
        try bench.expect("short", "cooldown", until: t0 + 60 * B.second)
        try bench.expect("srv", "open", until: t0 + 30 * B.second)
        try bench.expect("auth", "blacklisted", until: nil)
        try bench.expect("quota", "blacklisted", until: t0 + B.day)
        // The error count came along: one more server error opens the circuit.
        #expect(try bench.report("flaky", ["status": 500])["state"] == "open")
        // So did the trips: a failed probe re-opens for 60 s.
        try bench.at(t0 + 30 * B.second)
        #expect(try bench.isAvailable("srv"))
        #expect(try bench.report("srv", ["status": 500])["untilMs"] == .int(t0 + 90 * B.second))
        // And the backoff chain: the next 429 without a hint takes step 2, 30 s.
        try bench.at(t0 + 40 * B.second)
        #expect(try bench.report("chain", ["status": 429])["untilMs"] == .int(t0 + 70 * B.second))

        // Back to the first copy: still everything.
        let after = try bench.allStatuses()
        #expect(try bench.host.call("modules.rollback", ["id": "health"])["generation"] == 1)
        #expect(try bench.allStatuses() == after, "the rollback changed the entries")
    }

    /// After a swap the new instance keeps writing: a kill -9 then brings back the entries from
    /// before and after the swap.
    @Test func entriesWrittenAfterASwapSurviveAKilledHost() throws {
        let bench = try HealthBench()
        try bench.report("before", ["status": 429, "retryAfter": 600])
        let copy = try PluginBuilder.copyBuilt("libHealth.so", into: TemporaryDirectory.make(prefix: "modhost-plugins"), name: "libHealth-b.so")
        try bench.host.call("modules.swap", ["id": "health", "path": .string(copy)])
        try bench.report("after", ["status": 429, "retryAfter": 900])

        let restarted = try bench.killAndRestart(clockStart: t0 + B.minute)
        try restarted.expect("before", "cooldown", until: t0 + 600 * B.second)
        try restarted.expect("after", "cooldown", until: t0 + 900 * B.second)
    }

    /// The swapped module still consumes and publishes events.
    @Test func swappedModuleStillConsumesAndPublishesEvents() throws {
        let bench = try HealthBench()
        try bench.host.call("events.subscribe", ["topics": ["health.*"]])
        let builds = try TemporaryDirectory.make(prefix: "modhost-plugins")
        let copy = try PluginBuilder.copyBuilt("libHealth.so", into: builds, name: "libHealth-b.so")
        try bench.host.call("modules.swap", ["id": "health", "path": .string(copy)])

        let published = try bench.host.call("events.publish", ["topic": "token.reauth_required", "data": ["providerKey": "a"]])
        #expect(published["subscribers"] == 1, "the new instance should have the subscriptions: \(published)")
        try bench.expect("a", "blacklisted", until: nil)
        let (event, _) = try bench.host.callPublishing("health.cooldown", "health.report", ["providerKey": "b", "status": 429, "retryAfter": 9])
        #expect(event["data"]["untilMs"] == .int(t0 + 9 * B.second))
    }
}
