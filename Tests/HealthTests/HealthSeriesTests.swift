import ModHostTestKit
import Testing

/// Series (model families) through the real host and libHealth.so: keys map to a series by the
/// config; a series trips as a whole when at least `seriesTripShare` of its keys are out, or on a
/// series_quota error, and then none of its keys is offered until the trip ends.
@Suite struct HealthSeriesTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    /// claude: 3 keys, gemini-pro: 2 keys; trips at half of the keys out, for 2 min.
    private func benchWithSeries() throws -> HealthBench {
        let bench = try HealthBench(config: [
            "series": ["claude": ["claude.k1", "claude.k2", "claude.k3"], "gemini-pro": ["gemini.k1", "gemini.k2"]],
            "seriesTripShare": 0.5,
            "seriesCooldownMs": 120_000,
        ])
        try bench.host.call("events.subscribe", ["topics": ["health.*"]])
        return bench
    }

    private func seriesTrips(_ bench: HealthBench) throws -> JSON {
        try bench.snapshot()["series"]
    }

    @Test func seriesTripsWhenItsShareOfKeysIsOut() throws {
        let bench = try benchWithSeries()
        // 1 of 3 out: below the share.
        try bench.report("claude.k1", ["status": 429, "retryAfter": 60])
        #expect(try seriesTrips(bench) == [])
        #expect(try bench.available(["claude.k2", "claude.k3"])["available"] == ["claude.k2", "claude.k3"])
        #expect(try bench.status("claude.k1")["series"] == "claude")

        // 2 of 3 out: the series trips, for seriesCooldownMs.
        let tripped = try bench.at(t0 + B.second)
        let until = tripped + 120 * B.second
        let (event, _) = try bench.host.callPublishing(
            "health.series_tripped", "health.report", ["providerKey": "claude.k2", "status": 401])
        #expect(event["data"] == ["series": "claude", "untilMs": .int(until)], "\(event)")
        #expect(try seriesTrips(bench) == [["series": "claude", "untilMs": .int(until)]])

        // No claude key is offered, not even the healthy one; other series are not affected.
        let answer = try bench.available(["claude.k3", "gemini.k1", "unmapped"])
        #expect(answer["available"] == ["gemini.k1", "unmapped"], "\(answer)")
        #expect(answer["unavailable"][0]["providerKey"] == "claude.k3", "\(answer)")
        #expect(answer["unavailable"][0]["untilMs"] == .int(until), "\(answer)")
        #expect(answer["earliestRecoveryMs"] == .int(until), "\(answer)")

        // Until the trip ends: by then claude.k1 has recovered (1 of 3 out), so it stays closed.
        try bench.at(until - 1)
        #expect(try bench.available(["claude.k3"])["available"] == [])
        try bench.at(until)
        #expect(try bench.available(["claude.k1", "claude.k2", "claude.k3"])["available"] == ["claude.k1", "claude.k3"])
        #expect(try seriesTrips(bench) == [])
    }

    /// "At least" the share: 1 of 2 keys out is half.
    @Test func shareBoundaryIsInclusive() throws {
        let bench = try benchWithSeries()
        let (event, _) = try bench.host.callPublishing(
            "health.series_tripped", "health.report", ["providerKey": "gemini.k1", "errorClass": "quota"])
        #expect(event["data"]["series"] == "gemini-pro", "\(event)")
        #expect(try bench.available(["gemini.k2"])["available"] == [])
    }

    @Test func seriesQuotaTripsTheSeriesAtOnce() throws {
        let bench = try benchWithSeries()
        // Without a hint: seriesCooldownMs.
        let (event, _) = try bench.host.callPublishing(
            "health.series_tripped", "health.report", ["providerKey": "claude.k1", "errorClass": "series_quota"])
        #expect(event["data"] == ["series": "claude", "untilMs": .int(t0 + 120 * B.second)], "\(event)")
        #expect(try bench.available(["claude.k2", "claude.k3", "gemini.k2"])["available"] == ["gemini.k2"])

        // With a hint: until the hint.
        let (hinted, _) = try bench.host.callPublishing(
            "health.series_tripped", "health.report",
            ["providerKey": "gemini.k1", "errorClass": "series_quota", "retryAfter": "900"])
        #expect(hinted["data"] == ["series": "gemini-pro", "untilMs": .int(t0 + 900 * B.second)], "\(hinted)")
        let trips = Set(try seriesTrips(bench).array ?? [])
        #expect(trips == [["series": "claude", "untilMs": .int(t0 + 120 * B.second)], ["series": "gemini-pro", "untilMs": .int(t0 + 900 * B.second)]])

        try bench.at(t0 + 900 * B.second - 1)
        #expect(try bench.available(["claude.k2", "gemini.k2"])["available"] == ["claude.k2"])
        try bench.at(t0 + 900 * B.second)
        #expect(try bench.available(["claude.k2", "gemini.k2"])["available"] == ["claude.k2", "gemini.k2"])
    }

    /// A report may name the series of a key the config does not map.
    @Test func seriesNamedInTheReport() throws {
        let bench = try benchWithSeries()
        let (event, _) = try bench.host.callPublishing(
            "health.series_tripped", "health.report",
            ["providerKey": "mistral.k1", "series": "mistral", "errorClass": "series_quota", "retryAfter": 300])
        #expect(event["data"] == ["series": "mistral", "untilMs": .int(t0 + 300 * B.second)], "\(event)")
        #expect(try bench.available(["mistral.k1"])["available"] == [])
        #expect(try bench.status("mistral.k1")["series"] == "mistral")
    }

    @Test func seriesTripSurvivesAKilledHost() throws {
        let bench = try benchWithSeries()
        try bench.report("claude.k1", ["errorClass": "series_quota", "retryAfter": 600])
        let restarted = try bench.killAndRestart(clockStart: t0 + 60 * B.second)
        #expect(try seriesTrips(restarted) == [["series": "claude", "untilMs": .int(t0 + 600 * B.second)]])
        #expect(try restarted.available(["claude.k3"])["available"] == [])
        let later = try restarted.killAndRestart(clockStart: t0 + 600 * B.second)
        #expect(try seriesTrips(later) == [])
        #expect(try later.available(["claude.k3"])["available"] == ["claude.k3"])
    }

    /// A swap to another copy of the library (same config) keeps the series trip and what the
    /// share counts.
    @Test func seriesStateSurvivesASwap() throws {
        let bench = try benchWithSeries()
        try bench.report("claude.k1", ["errorClass": "series_quota", "retryAfter": 600])
        try bench.report("gemini.k1", ["status": 429, "retryAfter": 900])  // 1 of 2 out: tripped by share
        let before = try bench.snapshot()
        let copy = try PluginBuilder.copyBuilt("libHealth.so", into: TemporaryDirectory.make(prefix: "modhost-plugins"), name: "libHealth-b.so")
        try bench.host.call("modules.swap", ["id": "health", "path": .string(copy)])
        #expect(try bench.snapshot() == before)
        #expect(try bench.available(["claude.k2", "gemini.k2"])["available"] == [])
        try bench.at(t0 + 600 * B.second)
        #expect(try bench.available(["claude.k2"])["available"] == ["claude.k2"])
    }
}
