@testable import HealthCore
import ModuleContracts
import Testing

/// Series: a series trips as a whole when its configured share of keys is out, or on a
/// series_quota error; while tripped none of its keys is offered.
@Suite struct SeriesTests {
    private func bench() throws -> Bench {
        try Bench { config in
            try config.series.add("claude", ["claude.k1", "claude.k2", "claude.k3"])
            try config.series.add("gemini", ["gemini.*"])
            config.seriesCooldownMs = 120_000
        }
    }

    @Test func tripsWhenTheShareOfItsKeysIsOut() throws {
        let bench = try bench()
        try bench.report("claude.k1", status: 429, retryAfter: .seconds(60), at: t0)
        #expect(bench.snapshot(at: t0).series.isEmpty, "1 of 3 is below half")
        _ = bench.takeEvents()

        try bench.report("claude.k2", status: 401, at: t0 + second)
        #expect(bench.takeEvents() == ["health.series_tripped claude"])
        let until = t0 + second + 120 * second
        #expect(bench.snapshot(at: t0 + second).series == [.init(series: "claude", untilMs: until)])

        let answer = bench.available(["claude.k3", "other"], at: t0 + 2 * second)
        #expect(answer.available == ["other"])
        #expect(answer.unavailable == [.init(providerKey: "claude.k3", state: "cooldown", untilMs: until, reason: "series")])
        #expect(answer.earliestRecoveryMs == until)
        let status = try bench.status("claude.k3", at: t0 + 2 * second)
        #expect(status.series == "claude" && status.seriesUntilMs == until && status.reason == "series")

        #expect(bench.available(["claude.k3"], at: until - 1).available.isEmpty)
        #expect(bench.available(["claude.k1", "claude.k3"], at: until).available == ["claude.k1", "claude.k3"])
        #expect(bench.snapshot(at: until).series.isEmpty)
    }

    /// Keys matched by a prefix rule count once they have been seen; 1 of 2 is half.
    @Test func prefixRulesAndTheInclusiveShare() throws {
        let bench = try bench()
        try bench.report("gemini.k2", status: 500, at: t0)  // seen, healthy
        try bench.report("gemini.k1", errorClass: .quota, at: t0)
        #expect(bench.takeEvents().contains("health.series_tripped gemini"))
        #expect(try bench.status("gemini.k2", at: t0).state == .cooldown)
    }

    @Test func seriesQuotaTripsAtOnceAndOnlyExtends() throws {
        let bench = try bench()
        let result = try bench.report("claude.k1", errorClass: .seriesQuota, at: t0)
        #expect(result.reason == "series_quota" && result.state == .cooldown && result.untilMs == t0 + 120 * second)
        #expect(bench.snapshot(at: t0).series == [.init(series: "claude", untilMs: t0 + 120 * second)])
        try bench.report("claude.k2", errorClass: .seriesQuota, retryAfter: .seconds(900), at: t0)
        try bench.report("claude.k3", errorClass: .seriesQuota, retryAfter: .seconds(60), at: t0)
        #expect(bench.snapshot(at: t0).series == [.init(series: "claude", untilMs: t0 + 900 * second)])
        #expect(bench.takeWrites().filter { $0.hasPrefix("put series/") }.count == 2)
    }

    @Test func aReportNamesTheSeriesOfAnUnmappedKey() throws {
        let bench = try bench()
        try bench.report("mistral.k1", errorClass: .seriesQuota, retryAfter: .seconds(300), series: "mistral", at: t0)
        #expect(bench.available(["mistral.k1"], at: t0).available.isEmpty)
        #expect(try bench.status("mistral.k1", at: t0).series == "mistral")
        #expect(throws: HealthInputError(
            "series is required for errorClass series_quota: providerKey \"mistral.k2\" belongs to no series")) {
            try bench.report("mistral.k2", errorClass: .seriesQuota, at: t0)
        }
    }

    @Test func configuredSeriesMap() throws {
        var map = SeriesMap()
        try map.add("claude", ["anthropic.k1", "anthropic.*"])
        try map.add("claude-opus", ["anthropic.opus.*"])
        #expect(map.series(of: "anthropic.k1") == "claude")
        #expect(map.series(of: "anthropic.opus.k7") == "claude-opus", "the longest prefix wins")
        #expect(map.series(of: "anthropic.k9") == "claude")
        #expect(map.series(of: "openai.k1") == nil)
        #expect(throws: HealthConfigError.self) { try map.add("other", ["anthropic.k1"]) }
        #expect(throws: HealthConfigError.self) { try map.add("bad", ["a*b"]) }
    }
}
