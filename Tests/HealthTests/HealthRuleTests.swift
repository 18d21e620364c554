import ModHostTestKit
import Testing

/// The health rules without hints, through the real host and libHealth.so: the 429 backoff chain
/// and its reset, daily quota until the next local midnight, auth until a refresh, how a report
/// is classified, and bad input that is refused without storing anything.
@Suite struct HealthRuleTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    // MARK: Backoff

    /// 429 without a hint, reported again each time the previous cooldown ends (always less
    /// than 10 min after the previous error): 15 s, 30 s, 1 m, 5 m, 30 m.
    @Test func backoffChainWithoutHints() throws {
        let bench = try HealthBench()
        var now = t0
        for step in [15 * B.second, 30 * B.second, B.minute, 5 * B.minute, 30 * B.minute] {
            let result = try bench.report("openai.k1", ["status": 429])
            #expect(result["state"] == "cooldown", "step \(step): \(result)")
            #expect(result["reason"] == "rate_limit", "step \(step): \(result)")
            #expect(result["untilMs"] == .int(now + step), "step \(step): \(result)")
            try bench.expectOutUntil("openai.k1", "cooldown", until: now + step)
            now += step
        }
    }

    /// The chain resets after 10 min without errors: an error 1 ms short of 10 min after the
    /// last one takes the next step, one exactly 10 min after the last starts again at 15 s.
    @Test func backoffChainResetsAfterTenMinutesWithoutErrors() throws {
        let bench = try HealthBench()
        #expect(try bench.report("openai.k1", ["status": 429])["untilMs"] == .int(t0 + 15 * B.second))

        let second = t0 + 10 * B.minute - 1
        try bench.at(second)
        #expect(try bench.report("openai.k1", ["status": 429])["untilMs"] == .int(second + 30 * B.second), "the chain reset too early")

        let third = second + 10 * B.minute
        try bench.at(third)
        #expect(try bench.report("openai.k1", ["status": 429])["untilMs"] == .int(third + 15 * B.second), "the chain did not reset")
        #expect(try bench.report("openai.k1", ["status": 429])["untilMs"] == .int(third + 30 * B.second), "the chain goes on after a reset")
    }

    /// Each key has its own chain.
    @Test func backoffChainsArePerKey() throws {
        let bench = try HealthBench()
        try bench.report("openai.k1", ["status": 429])
        try bench.at(t0 + 15 * B.second)
        #expect(try bench.report("openai.k1", ["status": 429])["untilMs"] == .int(t0 + 45 * B.second))
        #expect(try bench.report("openai.k2", ["status": 429])["untilMs"] == .int(t0 + 30 * B.second))
    }

    // MARK: Quota

    @Test func quotaIsBlacklistedUntilTheNextLocalMidnight() throws {
        let bench = try HealthBench()
        try bench.at(t0 + 10 * B.hour)
        let result = try bench.report("gemini.k1", ["errorClass": "quota"])
        #expect(result["state"] == "blacklisted", "\(result)")
        #expect(result["reason"] == "quota", "\(result)")
        #expect(result["untilMs"] == .int(t0 + B.day), "\(result)")
        // Uncapped: the blacklist is longer than the 3 h cooldown cap.
        try bench.expectOutUntil("gemini.k1", "blacklisted", until: t0 + B.day)
    }

    @Test func quotaRightBeforeAndAtMidnight() throws {
        let bench = try HealthBench()
        try bench.at(t0 + B.day - 1)
        #expect(try bench.report("gemini.k1", ["errorClass": "quota"])["untilMs"] == .int(t0 + B.day))
        try bench.at(t0 + B.day)
        #expect(try bench.report("gemini.k2", ["errorClass": "quota"])["untilMs"] == .int(t0 + 2 * B.day))
    }

    /// "Local" is the host's time zone: at 10:00 UTC it is 19:00 in Tokyo (UTC+9, no DST), whose
    /// next midnight is 15:00 UTC.
    @Test func quotaMidnightIsInTheHostsTimeZone() throws {
        let bench = try HealthBench(timeZone: "Asia/Tokyo")
        try bench.at(t0 + 10 * B.hour)
        let result = try bench.report("gemini.k1", ["errorClass": "quota"])
        #expect(result["untilMs"] == .int(t0 + 15 * B.hour), "\(result)")
        try bench.expectOutUntil("gemini.k1", "blacklisted", until: t0 + 15 * B.hour)
    }

    /// Days with a daylight-saving change are 23 h and 25 h long in Berlin: the next midnight is
    /// the calendar's, not 24 h after the last one.
    @Test(arguments: [
        (now: Int64(1_774_740_600_000), midnight: Int64(1_774_821_600_000)),  // 03-29 00:30 CET → 03-30 00:00 CEST
        (now: Int64(1_792_881_000_000), midnight: Int64(1_792_969_200_000)),  // 10-25 00:30 CEST → 10-26 00:00 CET
    ])
    func quotaMidnightAcrossADaylightSavingChange(_ day: (now: Int64, midnight: Int64)) throws {
        let bench = try HealthBench(clockStart: day.now, timeZone: "Europe/Berlin")
        let result = try bench.report("gemini.k1", ["errorClass": "quota"])
        #expect(result["untilMs"] == .int(day.midnight), "\(result)")
    }

    /// A 429 whose body says the daily quota is exhausted is quota, not rate_limit.
    @Test func rateLimitBodySayingTheDailyQuotaIsExhaustedIsQuota() throws {
        let bench = try HealthBench()
        try bench.at(t0 + 10 * B.hour)
        let body = #"{"error":{"code":429,"message":"You have exhausted your daily quota for this model."}}"#
        let result = try bench.report("gemini.k1", ["status": 429, "body": .string(body)])
        #expect(result["state"] == "blacklisted", "\(result)")
        #expect(result["reason"] == "quota", "\(result)")
        #expect(result["untilMs"] == .int(t0 + B.day), "\(result)")
    }

    /// With a reset time in the body, the blacklist ends then (7 h later: not capped at 3 h).
    @Test(arguments: [JSON.string("2026-01-01T17:00:00Z"), .int(1_767_286_800_000)])
    func quotaUntilTheHintedReset(_ resetAt: JSON) throws {
        let bench = try HealthBench()
        try bench.at(t0 + 10 * B.hour)
        let body = JSON.object(["message": "You have exhausted your daily quota for this model.", "resetAt": resetAt]).text
        let result = try bench.report("gemini.k1", ["status": 429, "body": .string(body)])
        #expect(result["state"] == "blacklisted", "\(resetAt): \(result)")
        #expect(result["untilMs"] == .int(t0 + 17 * B.hour), "\(resetAt): \(result)")
        try bench.expectOutUntil("gemini.k1", "blacklisted", until: t0 + 17 * B.hour)
    }

    // MARK: Auth

    @Test(arguments: [401, 403] as [Int64])
    func authIsBlacklistedUntilTheTokenIsRefreshed(_ status: Int64) throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["status": .int(status)])
        #expect(result["state"] == "blacklisted", "\(status): \(result)")
        #expect(result["reason"] == "auth", "\(status): \(result)")
        #expect(result["untilMs"] == .null, "\(status): an auth blacklist has no deadline: \(result)")
        try bench.at(t0 + 30 * B.day)
        try bench.expect("openai.k1", "blacklisted", until: nil)

        // A success may be a call that began before the 401: the key stays out.
        let success = try bench.reportSuccess("openai.k1")
        #expect(success["providerKey"] == "openai.k1" && success["state"] == "blacklisted", "\(success)")
        // The token module's refresh lifts it.
        try bench.host.call("events.publish", ["topic": "token.refreshed", "data": ["providerKey": "openai.k1"]])
        try bench.expect("openai.k1", "healthy", until: nil)
    }

    @Test func authByErrorClassWithoutAStatus() throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["errorClass": "auth"])
        #expect(result["state"] == "blacklisted", "\(result)")
        #expect(result["reason"] == "auth", "\(result)")
        try bench.expect("openai.k1", "blacklisted", until: nil)
    }

    // MARK: Deadlines across rules

    /// A circuit opening for 30 s does not cut short a 5 min cooldown.
    @Test func circuitDoesNotShortenACooldown() throws {
        let bench = try HealthBench()
        try bench.report("k", ["status": 429, "retryAfter": 300])
        try bench.report("k", status: 500, times: 3)
        try bench.at(t0 + 30 * B.second)
        #expect(try !bench.isAvailable("k"), "the circuit's 30 s ended the 5 min cooldown")
        let entry = try bench.status("k")
        #expect(entry["untilMs"] == .int(t0 + 300 * B.second), "\(entry)")
        try bench.at(t0 + 300 * B.second - 1)
        #expect(try !bench.isAvailable("k"))
        try bench.at(t0 + 300 * B.second)
        #expect(try bench.isAvailable("k"))
    }

    /// A rate limit with a short hint does not cut short a quota blacklist until midnight.
    @Test func rateLimitDoesNotShortenAQuotaBlacklist() throws {
        let bench = try HealthBench()
        try bench.at(t0 + 10 * B.hour)
        try bench.report("k", ["errorClass": "quota"])
        let result = try bench.report("k", ["status": 429, "retryAfter": 60])
        #expect(result["untilMs"] == .int(t0 + B.day), "\(result)")
        try bench.at(t0 + 11 * B.hour)
        #expect(try !bench.isAvailable("k"))
        try bench.expectOutUntil("k", "blacklisted", until: t0 + B.day)
    }

    /// A rate limit with a hint does not lift an auth blacklist when it ends.
    @Test func rateLimitDoesNotLiftAnAuthBlacklist() throws {
        let bench = try HealthBench()
        try bench.report("k", ["status": 401])
        try bench.report("k", ["status": 429, "retryAfter": 60])
        try bench.at(t0 + 2 * B.minute)
        try bench.expect("k", "blacklisted", until: nil)
    }

    // MARK: Classification

    @Test(arguments: [500, 502, 503, 599] as [Int64])
    func oneServerErrorIsCountedButLeavesTheKeyUsable(_ status: Int64) throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["status": .int(status)])
        #expect(result["state"] == "healthy", "\(status): \(result)")
        let entry = try bench.status("openai.k1")
        #expect(entry["consecutiveErrors"]["server"] == 1, "\(status): \(entry)")
        #expect(entry["lastError"] != .null, "\(status): \(entry)")
        #expect(entry["trips"] == 0, "\(status): \(entry)")
        try bench.expect("openai.k1", "healthy", until: nil)
    }

    /// An explicit errorClass decides, whatever the status says.
    @Test func errorClassWinsOverTheStatus() throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["status": 500, "errorClass": "rate_limit", "retryAfter": "30"])
        #expect(result["state"] == "cooldown", "\(result)")
        #expect(result["untilMs"] == .int(t0 + 30 * B.second), "\(result)")
        #expect((try bench.status("openai.k1")["consecutiveErrors"]["server"].int ?? 0) == 0)
        #expect(try bench.report("openai.k2", ["status": 429, "errorClass": "auth"])["state"] == "blacklisted")
    }

    @Test func unknownKeyIsHealthy() throws {
        let bench = try HealthBench()
        let entry = try bench.status("never.seen")
        #expect(entry["providerKey"] == "never.seen")
        #expect(entry["state"] == "healthy", "\(entry)")
        #expect(entry["untilMs"] == .null && entry["lastError"] == .null, "\(entry)")
        #expect(entry["trips"] == 0, "\(entry)")
    }

    // MARK: Bad input

    /// Each is refused with -32602 naming the field, and nothing is stored.
    @Test func badInputIsRefusedAndNothingIsStored() throws {
        let bench = try HealthBench()
        let refusals: [(method: String, params: JSON, field: String)] = [
            ("health.report", ["status": 429], "providerKey"),
            ("health.report", ["providerKey": "", "status": 429], "providerKey"),
            ("health.report", ["providerKey": 42, "status": 429], "providerKey"),
            ("health.report", ["providerKey": "k", "status": 99], "status"),
            ("health.report", ["providerKey": "k", "status": 600], "status"),
            ("health.report", ["providerKey": "k", "status": -429], "status"),
            ("health.report", ["providerKey": "k", "status": "429"], "status"),
            ("health.report", ["providerKey": "k", "status": 429.5], "status"),
            ("health.report", ["providerKey": "k", "errorClass": "bogus"], "errorClass"),
            ("health.report", ["providerKey": "k", "errorClass": 5], "errorClass"),
            ("health.report", ["providerKey": "k", "status": 429, "retryAfter": -1], "retryAfter"),
            ("health.report", ["providerKey": "k", "status": 429, "retryAfter": "-30"], "retryAfter"),
            ("health.report", ["providerKey": "k", "status": 429, "retryAfter": 1_000_000_000_000], "retryAfter"),
            ("health.report", ["providerKey": "k", "status": 429, "retryAfter": true], "retryAfter"),
            ("health.report", ["providerKey": "k", "status": 429, "retryAfter": [30]], "retryAfter"),
            ("health.report", ["providerKey": "k", "status": 429, "body": 42], "body"),
            ("health.report", ["providerKey": "k", "status": 429, "series": 7], "series"),
            ("health.reportSuccess", [:], "providerKey"),
            ("health.reportSuccess", ["providerKey": ""], "providerKey"),
            ("health.available", [:], "providerKeys"),
            ("health.available", ["providerKeys": "k"], "providerKeys"),
            ("health.available", ["providerKeys": [1]], "providerKeys"),
            ("health.available", ["providerKeys": [""]], "providerKey"),
            ("health.status", ["providerKey": 3], "providerKey"),
            ("health.status", ["providerKey": ""], "providerKey"),
            ("health.reset", ["providerKey": 3], "providerKey"),
            ("health.reset", ["providerKey": ""], "providerKey"),
        ]
        for refusal in refusals {
            try bench.expectInvalid(refusal.method, refusal.params, naming: refusal.field)
        }
        // Neither status nor errorClass: nothing to classify.
        let neither = try bench.host.expectFailure("health.report", ["providerKey": "k", "retryAfter": "30"])
        #expect(neither["code"] == -32602, "\(neither)")
        let text = neither["message"].string ?? ""
        #expect(text.contains("status") || text.contains("errorClass"), "\(neither)")

        let entry = try bench.status("k")
        #expect(entry["state"] == "healthy", "\(entry)")
        #expect(entry["lastError"] == .null, "a refused report left a trace: \(entry)")
        #expect(entry["trips"] == 0, "\(entry)")
        #expect((entry["consecutiveErrors"].object ?? [:]).values.allSatisfy { ($0.int ?? 0) == 0 }, "\(entry)")
        let stored = try bench.allStatuses()
        #expect(stored.isEmpty, "a refused call stored an entry: \(stored)")
        let snapshot = try bench.snapshot()
        #expect(snapshot["entries"] == [], "\(snapshot)")
    }

    /// A refused report does not touch the key's entry either: its error counts, its backoff
    /// chain and its deadline stay as they were.
    @Test func refusedReportLeavesAnExistingEntryAlone() throws {
        let bench = try HealthBench()
        try bench.report("srv", status: 500, times: 2)
        try bench.report("rl", ["status": 429])  // backoff step 1: until +15 s
        let before = try bench.allStatuses()
        try bench.expectInvalid("health.report", ["providerKey": "srv", "status": 500, "retryAfter": -1], naming: "retryAfter")
        try bench.expectInvalid("health.report", ["providerKey": "rl", "status": 429, "body": 42], naming: "body")
        try bench.expectInvalid("health.report", ["providerKey": "rl", "status": 429, "errorClass": "bogus"], naming: "errorClass")
        #expect(try bench.allStatuses() == before)
        // The next valid reports take the next step from where they were.
        #expect(try bench.report("srv", ["status": 500])["state"] == "open", "the third valid error opens the circuit")
        try bench.at(t0 + 15 * B.second)
        #expect(try bench.report("rl", ["status": 429])["untilMs"] == .int(t0 + 45 * B.second), "backoff step 2")
    }

    /// The ends of the status range are accepted.
    @Test func statusBoundsAreAccepted() throws {
        let bench = try HealthBench()
        #expect(try bench.report("k", ["status": 100])["state"] == "healthy")
        #expect(try bench.report("k", ["status": 599])["state"] == "healthy")
        #expect(try bench.status("k")["consecutiveErrors"]["server"] == 1)
    }
}
