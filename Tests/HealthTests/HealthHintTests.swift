import ModHostTestKit
import Testing

/// 429 with a hint, through the real host and libHealth.so: the key cools down until exactly the
/// time the hint names (still out 1 ms before, usable at it), whatever form the hint takes,
/// capped at 3 h, and a deadline only ever extends.
@Suite struct HealthHintTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    // MARK: Retry-After

    /// A hint built to overflow (thousands of duration parts) in retryAfter or in the body is
    /// not a deadline and never a crash: the host answers and keeps serving.
    @Test func hostileHintsAreSurvived() throws {
        let bench = try HealthBench()
        let hostile = String(repeating: "106000000d", count: 1200)
        let first = try bench.host.request("health.report", ["providerKey": "openai.k1", "status": 429, "retryAfter": .string(hostile)])
        #expect(first["result"] != .null || first["error"]["code"] == -32602, "\(first)")
        let second = try bench.host.request(
            "health.report", ["providerKey": "openai.k2", "status": 429, "body": .string("reset after \(hostile)")])
        #expect(second["result"]["state"] == "cooldown", "\(second)")
        #expect(try bench.host.call("health.status", ["providerKey": "openai.k2"])["state"] == "cooldown")
    }

    @Test func retryAfterSecondsAsAString() throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["status": 429, "retryAfter": "120"])
        #expect(result["providerKey"] == "openai.k1")
        #expect(result["state"] == "cooldown", "\(result)")
        #expect(result["untilMs"] == .int(t0 + 120 * B.second), "\(result)")
        #expect(result["reason"] == "rate_limit", "\(result)")
        try bench.expectOutUntil("openai.k1", "cooldown", until: t0 + 120 * B.second)
    }

    @Test func retryAfterSecondsAsANumber() throws {
        let bench = try HealthBench()
        try bench.at(t0 + 5 * B.second)
        let result = try bench.report("openai.k1", ["status": 429, "retryAfter": 45])
        #expect(result["untilMs"] == .int(t0 + 50 * B.second), "\(result)")
        try bench.expectOutUntil("openai.k1", "cooldown", until: t0 + 50 * B.second)
    }

    /// The preferred HTTP date form (IMF-fixdate, RFC 9110 §5.6.7).
    @Test func retryAfterHTTPDate() throws {
        let bench = try HealthBench()
        try bench.at(t0 + 10 * B.second)
        let result = try bench.report("openai.k1", ["status": 429, "retryAfter": "Thu, 01 Jan 2026 00:05:00 GMT"])
        #expect(result["state"] == "cooldown", "\(result)")
        #expect(result["untilMs"] == .int(t0 + 5 * B.minute), "\(result)")
        try bench.expectOutUntil("openai.k1", "cooldown", until: t0 + 5 * B.minute)
    }

    /// RFC 9110 §5.6.7: "A recipient that parses a timestamp value in an HTTP field MUST accept
    /// all three HTTP-date formats" — the RFC's own example, Sun, 06 Nov 1994 08:49:37 GMT, in
    /// its obsolete RFC 850 and asctime forms, moved to our day.
    @Test(arguments: ["Thursday, 01-Jan-26 00:05:00 GMT", "Thu Jan  1 00:05:00 2026"])
    func retryAfterObsoleteHTTPDateForms(_ date: String) throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["status": 429, "retryAfter": .string(date)])
        #expect(result["untilMs"] == .int(t0 + 5 * B.minute), "\(date): \(result)")
    }

    // MARK: Hints in the body

    /// Google's RetryInfo detail (google.rpc.RetryInfo, a Duration in its JSON form "1.5s").
    @Test func jsonRetryDelayWithAFraction() throws {
        let bench = try HealthBench()
        let body = #"{"error":{"code":429,"message":"Too many requests","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}"#
        let result = try bench.report("gemini.k1", ["status": 429, "body": .string(body)])
        #expect(result["state"] == "cooldown", "\(result)")
        #expect(result["untilMs"] == .int(t0 + 1500), "\(result)")
        try bench.expectOutUntil("gemini.k1", "cooldown", until: t0 + 1500)
    }

    @Test func jsonRetryDelayInWholeSeconds() throws {
        let bench = try HealthBench()
        let body = #"{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}"#
        #expect(try bench.report("gemini.k1", ["status": 429, "body": .string(body)])["untilMs"] == .int(t0 + 30 * B.second))
    }

    @Test func resetAfterDurationInText() throws {
        let bench = try HealthBench()
        let result = try bench.report("claude.k1", ["status": 429, "body": "Rate limit exceeded. Limits reset after 22m41s."])
        let until = t0 + 22 * B.minute + 41 * B.second
        #expect(result["untilMs"] == .int(until), "\(result)")
        try bench.expectOutUntil("claude.k1", "cooldown", until: until)
    }

    /// 3h22m41s is past the default 3 h cap: the cooldown ends at the cap.
    @Test func resetAfterLongerThanTheCapIsCapped() throws {
        let bench = try HealthBench()
        let result = try bench.report("claude.k1", ["status": 429, "body": "Rate limit exceeded. Limits reset after 3h22m41s."])
        #expect(result["untilMs"] == .int(t0 + 10_800_000), "\(result)")
        try bench.expectOutUntil("claude.k1", "cooldown", until: t0 + 10_800_000)
    }

    @Test(arguments: [
        JSON.string("2026-01-01T01:30:00Z"), .string("2026-01-01T01:30:00.000Z"), .string("2026-01-01T02:30:00+01:00"),
        .int(1_767_231_000_000),
    ])
    func resetAtInTheBody(_ resetAt: JSON) throws {
        let bench = try HealthBench()
        let body = JSON.object(["message": "Too many requests", "resetAt": resetAt]).text
        let result = try bench.report("openai.k1", ["status": 429, "body": .string(body)])
        #expect(result["state"] == "cooldown", "\(resetAt): \(result)")
        #expect(result["untilMs"] == .int(t0 + 90 * B.minute), "\(resetAt): \(result)")
    }

    // MARK: Cap

    @Test func hintLongerThanThreeHoursIsCappedAtThreeHours() throws {
        let bench = try HealthBench()
        try bench.at(t0 + 7 * B.second)
        let result = try bench.report("openai.k1", ["status": 429, "retryAfter": "86400"])
        #expect(result["untilMs"] == .int(t0 + 7 * B.second + 10_800_000), "\(result)")
        try bench.expectOutUntil("openai.k1", "cooldown", until: t0 + 7 * B.second + 10_800_000)
    }

    /// Every form of hint is capped, not only Retry-After: each asks for more than 3 h here.
    @Test(arguments: [
        ["retryAfter": "Sat, 03 Jan 2026 00:00:00 GMT"],
        ["body": #"{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"100000s"}]}}"#],
        ["body": #"{"resetAt":"2026-01-01T10:00:00Z"}"#],
        ["body": "Rate limit exceeded. Limits reset after 30h."],
    ] as [JSON])
    func everyHintFormIsCapped(_ hint: JSON) throws {
        let bench = try HealthBench()
        var params = hint.object ?? [:]
        params["status"] = 429
        let result = try bench.report("openai.k1", .object(params))
        #expect(result["state"] == "cooldown", "\(hint): \(result)")
        #expect(result["untilMs"] == .int(t0 + 10_800_000), "\(hint): \(result)")
    }

    @Test func hintOfExactlyThreeHoursIsKept() throws {
        let bench = try HealthBench()
        #expect(try bench.report("openai.k1", ["status": 429, "retryAfter": 10_800])["untilMs"] == .int(t0 + 10_800_000))
    }

    // MARK: Extend only

    /// A later, shorter hint never shortens a cooldown; a later, longer one extends it.
    @Test func aDeadlineOnlyExtends() throws {
        let bench = try HealthBench()
        #expect(try bench.report("openai.k1", ["status": 429, "retryAfter": 300])["untilMs"] == .int(t0 + 300 * B.second))

        try bench.at(t0 + 10 * B.second)
        let shorter = try bench.report("openai.k1", ["status": 429, "retryAfter": 60])
        #expect(shorter["state"] == "cooldown")
        #expect(shorter["untilMs"] == .int(t0 + 300 * B.second), "a shorter hint shortened the cooldown: \(shorter)")
        // A shorter hint in the body, and a backoff step (no hint), do not shorten it either.
        try bench.report("openai.k1", ["status": 429, "body": "Rate limit exceeded. Limits reset after 1m."])
        try bench.report("openai.k1", ["status": 429])
        try bench.expect("openai.k1", "cooldown", until: t0 + 300 * B.second)

        let longer = try bench.report("openai.k1", ["status": 429, "retryAfter": 600])
        #expect(longer["untilMs"] == .int(t0 + 610 * B.second), "\(longer)")
        try bench.expectOutUntil("openai.k1", "cooldown", until: t0 + 610 * B.second)
    }

    /// An explicit rate_limit class without a status is enough.
    @Test func explicitRateLimitClassWithAHint() throws {
        let bench = try HealthBench()
        let result = try bench.report("openai.k1", ["errorClass": "rate_limit", "retryAfter": "20"])
        #expect(result["state"] == "cooldown", "\(result)")
        #expect(result["reason"] == "rate_limit", "\(result)")
        #expect(result["untilMs"] == .int(t0 + 20 * B.second), "\(result)")
    }
}
