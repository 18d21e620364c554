import Foundation
import ModuleContracts
@testable import HealthCore
import Testing

/// The rules for one key: cooldowns from hints (capped, extend-only), the backoff chain, quota
/// and auth blacklists, how a report is classified, and refused input.
@Suite struct RuleTests {
    // MARK: Cooldown from a hint

    @Test func hintSetsTheCooldownExactly() throws {
        let bench = Bench()
        let result = try bench.report("k", status: 429, retryAfter: .text("30"), at: t0)
        #expect(result == ReportResult(providerKey: "k", state: .cooldown, untilMs: t0 + 30 * second, reason: "rate_limit",
                                       detail: "retryAfter"))
        #expect(try bench.state("k", at: t0 + 30 * second - 1) == .cooldown)
        #expect(try bench.state("k", at: t0 + 30 * second) == .healthy)
    }

    /// The latest hint of a report wins (Retry-After against the body's).
    @Test func latestHintOfAReportWins() throws {
        let bench = Bench()
        let result = try bench.report("k", status: 429, retryAfter: .seconds(10), body: #"{"retryDelay":"40s"}"#, at: t0)
        #expect(result.untilMs == t0 + 40 * second)
        #expect(result.detail == "retryDelay")
    }

    @Test func hintsAreCappedAtThreeHoursByDefault() throws {
        let bench = Bench()
        #expect(try bench.report("a", status: 429, retryAfter: .seconds(10_800), at: t0).untilMs == t0 + 3 * hour)
        let capped = try bench.report("b", status: 429, body: "Limits reset after 3h22m41s.", at: t0)
        #expect(capped.untilMs == t0 + 10_800_000)
        #expect(capped.detail == "resetAfter (capped)")
    }

    @Test func theCapIsConfigurable() throws {
        let bench = Bench { $0.cooldownCapMs = 60_000 }
        #expect(try bench.report("a", status: 429, retryAfter: .seconds(120), at: t0).untilMs == t0 + minute)
    }

    /// A deadline only extends: neither a shorter hint nor a backoff step shortens it.
    @Test func aDeadlineOnlyExtends() throws {
        let bench = Bench()
        try bench.report("k", status: 429, retryAfter: .seconds(300), at: t0)
        let now = t0 + 10 * second
        #expect(try bench.report("k", status: 429, retryAfter: .seconds(60), at: now).untilMs == t0 + 300 * second)
        #expect(try bench.report("k", status: 429, body: "reset after 1m", at: now).untilMs == t0 + 300 * second)
        #expect(try bench.report("k", status: 429, at: now).untilMs == t0 + 300 * second)
        #expect(try bench.report("k", status: 429, retryAfter: .seconds(600), at: now).untilMs == now + 600 * second)
    }

    /// A hint naming a time already past is not used: the backoff chain applies.
    @Test func pastHintFallsBackToTheBackoffChain() throws {
        let bench = Bench()
        let result = try bench.report("k", status: 429, retryAfter: .text("Wed, 31 Dec 2025 23:00:00 GMT"), at: t0)
        #expect(result.untilMs == t0 + 15 * second)
        #expect(bench.effects.notes == ["\"k\": ignoring retryAfter: it names a time not in the future"])
    }

    // MARK: Backoff chain

    @Test func backoffChainTakesTheNextStepEachTime() throws {
        let bench = Bench()
        var now = t0
        for step in [15 * second, 30 * second, minute, 5 * minute, 30 * minute, hour, hour] {
            // Every gap is shorter than the reset, the hour included, measured from the last error.
            let result = try bench.report("k", status: 429, at: now)
            #expect(result.untilMs == now + step, "step \(step)")
            now += min(step, 9 * minute)
        }
    }

    /// The chain starts over once 10 min passed since the key's last error, of any class.
    @Test func backoffChainResetsAfterTenMinutesWithoutErrors() throws {
        let bench = Bench()
        try bench.report("k", status: 429, at: t0)
        #expect(try bench.report("k", status: 429, at: t0 + 10 * minute - 1).untilMs == t0 + 10 * minute - 1 + 30 * second)
        let later = t0 + 20 * minute - 1
        #expect(try bench.report("k", status: 429, at: later).untilMs == later + 15 * second)
        // A server error keeps the chain alive.
        try bench.report("k", status: 500, at: later + 9 * minute)
        #expect(try bench.report("k", status: 429, at: later + 18 * minute).untilMs == later + 18 * minute + 30 * second)
    }

    @Test func backoffStepsAreConfigurable() throws {
        let bench = Bench {
            $0.backoffMs = [1000, 5000]
            $0.backoffResetMs = 60_000
        }
        #expect(try bench.report("k", status: 429, at: t0).untilMs == t0 + 1000)
        #expect(try bench.report("k", status: 429, at: t0 + 1000).untilMs == t0 + 6000)
        #expect(try bench.report("k", status: 429, at: t0 + 6000).untilMs == t0 + 11_000)
        #expect(try bench.report("k", status: 429, at: t0 + 66_000).untilMs == t0 + 67_000)
    }

    // MARK: Quota and auth

    @Test func quotaIsBlacklistedUntilTheNextLocalMidnight() throws {
        let bench = Bench()
        let result = try bench.report("k", errorClass: .quota, at: t0 + 10 * hour)
        #expect(result.state == .blacklisted && result.reason == "quota" && result.untilMs == t0 + day)
        #expect(try bench.state("k", at: t0 + day - 1) == .blacklisted)
        #expect(try bench.state("k", at: t0 + day) == .healthy)
    }

    @Test func quotaMidnightIsInTheEnginesTimeZone() throws {
        let bench = Bench(timeZone: TimeZone(identifier: "Asia/Tokyo")!)
        #expect(try bench.report("k", errorClass: .quota, at: t0 + 10 * hour).untilMs == t0 + 15 * hour)
    }

    @Test func quotaWithAHintedResetIsNotCappedAtThreeHours() throws {
        let bench = Bench()
        let body = #"{"message":"You have exhausted your daily quota.","resetAt":"2026-01-01T17:00:00Z"}"#
        let result = try bench.report("k", status: 429, body: body, at: t0 + 10 * hour)
        #expect(result.state == .blacklisted && result.untilMs == t0 + 17 * hour)
    }

    @Test func authIsBlacklistedUntilARefresh() throws {
        let bench = Bench()
        let result = try bench.report("a", status: 401, at: t0)
        #expect(result.state == .blacklisted && result.reason == "auth" && result.untilMs == nil)
        try bench.report("b", status: 403, at: t0)
        #expect(try bench.state("a", at: t0 + 30 * day) == .blacklisted)
        #expect(try bench.success("a", at: t0 + 30 * day).state == .blacklisted)
        #expect(try bench.engine.tokenRefreshed("a", at: t0 + 30 * day, effects: &bench.effects).state == .healthy)
        #expect(try bench.engine.tokenRefreshed("b", at: t0 + 30 * day, effects: &bench.effects).state == .healthy)
        _ = try bench.engine.reauthRequired("c", at: t0, effects: &bench.effects)
        #expect(try bench.state("c", at: t0 + day) == .blacklisted)
    }

    /// A success lifts neither a cooldown nor a quota (deadlines only extend), nor an auth block
    /// (only the token module's refresh does).
    @Test func successKeepsDeadlinesAndAuthBlocks() throws {
        let bench = Bench()
        try bench.report("c", status: 429, retryAfter: .seconds(60), at: t0)
        try bench.report("q", errorClass: .quota, at: t0)
        try bench.report("a", status: 401, at: t0)
        #expect(try bench.success("c", at: t0 + 1).state == .cooldown)
        #expect(try bench.success("q", at: t0 + 1).state == .blacklisted)
        #expect(try bench.success("a", at: t0 + 1).state == .blacklisted)
        #expect(try bench.engine.tokenRefreshed("a", at: t0 + 2, effects: &bench.effects).state == .healthy)
        #expect(try bench.status("c", at: t0 + 1).consecutiveErrors[.rateLimit] == 0)
    }

    // MARK: Classification

    @Test(arguments: [
        (429, nil, "rate_limit"), (429, "You have exhausted your daily quota", "quota"), (401, nil, "auth"),
        (403, nil, "auth"), (408, nil, "network"), (500, nil, "server"), (503, nil, "server"), (599, nil, "server"),
        (404, nil, "ignored"), (100, nil, "ignored"), (200, nil, "ignored"),
    ] as [(Int, String?, String)])
    func statusClassification(_ status: Int, _ body: String?, _ reason: String) throws {
        let bench = Bench()
        #expect(try bench.report("k", status: status, body: body, at: t0).reason == reason)
    }

    @Test func errorClassWinsOverTheStatus() throws {
        let bench = Bench()
        let result = try bench.report("k", status: 500, errorClass: .rateLimit, retryAfter: .text("30"), at: t0)
        #expect(result.state == .cooldown && result.untilMs == t0 + 30 * second)
        #expect(try bench.status("k", at: t0).consecutiveErrors[.server] == 0)
    }

    @Test func ignoredStatusStoresNothing() throws {
        let bench = Bench()
        try bench.report("k", status: 404, at: t0)
        #expect(bench.engine.statusOfAll(at: t0, effects: &bench.effects).entries.isEmpty)
    }

    // MARK: Bad input

    @Test(arguments: [
        (ProviderError(providerKey: "", status: 429), "providerKey must not be empty"),
        (ProviderError(providerKey: String(repeating: "k", count: 1025), status: 429), "providerKey is longer than 1024 bytes"),
        (ProviderError(providerKey: "k", series: "", status: 429), "series must not be empty"),
        (ProviderError(providerKey: "k", status: 700), "status 700 is outside 100..599"),
        (ProviderError(providerKey: "k", status: 99), "status 99 is outside 100..599"),
        (ProviderError(providerKey: "k", errorClass: "bogus"),
         "errorClass \"bogus\" is not one of rate_limit, quota, server, network, auth, series_quota"),
        (ProviderError(providerKey: "k", retryAfter: .text("30")), "status or errorClass is required"),
        (ProviderError(providerKey: "k", status: 429, retryAfter: .seconds(-5)), "retryAfter -5 is negative"),
        (ProviderError(providerKey: "k", status: 429, retryAfter: .seconds(1e12)),
         "retryAfter 1000000000000 is absurd: more than a year (31536000 s)"),
        (ProviderError(providerKey: "k", errorClass: "series_quota"),
         "series is required for errorClass series_quota: providerKey \"k\" belongs to no series"),
    ])
    func badInputIsRefusedAndNothingChanges(_ input: ProviderError, _ message: String) throws {
        let bench = Bench()
        #expect(throws: HealthInputError(message)) { try bench.engine.report(input, at: t0, effects: &bench.effects) }
        #expect(bench.effects.writes.isEmpty && bench.effects.events.isEmpty)
        #expect(bench.engine.statusOfAll(at: t0, effects: &bench.effects).entries.isEmpty)
    }

    @Test func otherMethodsCheckTheirKeys() {
        let bench = Bench()
        #expect(throws: HealthInputError("providerKey must not be empty")) { try bench.success("", at: t0) }
        #expect(throws: HealthInputError("providerKey must not be empty")) { try bench.status("", at: t0) }
        #expect(throws: HealthInputError("providerKey must not be empty")) {
            try bench.engine.reset("", at: t0, effects: &bench.effects)
        }
    }
}
