import Foundation
import ModuleContracts
@testable import HealthCore
import Testing
import ModuleSupport

/// Reading hints: Retry-After (RFC 9110 §10.2.3: delay-seconds or HTTP-date), durations, and
/// what response bodies say.
@Suite struct HintParsingTests {
    // MARK: Retry-After

    @Test(arguments: [
        (ProviderError.RetryAfter.text("120"), t0 + 120 * second),
        (.text(" 120 "), t0 + 120 * second),
        (.seconds(45), t0 + 45 * second),
        (.seconds(1.5), t0 + 1500),
        (.text("0"), t0),
        (.seconds(31_536_000), t0 + 31_536_000 * second),  // a year is the most
    ])
    func retryAfterSeconds(_ value: ProviderError.RetryAfter, _ until: Int64) throws {
        #expect(try Hints.retryAfter(value, nowMs: t0) == .until(until))
    }

    /// RFC 9110 §5.6.7's example in its three forms: "Sun, 06 Nov 1994 08:49:37 GMT" is
    /// 784111777 s after the epoch.
    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
    func httpDateForms(_ text: String) throws {
        let then: Int64 = 784_111_777_000
        #expect(HTTPDate.epochMs(text, nowMs: then) == then)
        #expect(try Hints.retryAfter(.text(text), nowMs: then - 5000) == .until(then))
    }

    @Test(arguments: [
        (ProviderError.RetryAfter.seconds(-5), "retryAfter -5 is negative"),
        (.text("-30"), "retryAfter \"-30\" is negative"),
        (.seconds(1_000_000_000_000), "retryAfter 1000000000000 is absurd: more than a year (31536000 s)"),
        (.text("Fri, 01 Jan 2027 00:00:01 GMT"), "retryAfter \"Fri, 01 Jan 2027 00:00:01 GMT\" is absurd: more than a year ahead"),
    ])
    func negativeOrAbsurdRetryAfterIsRefused(_ value: ProviderError.RetryAfter, _ message: String) {
        #expect(throws: HealthInputError(message)) { try Hints.retryAfter(value, nowMs: t0) }
    }

    @Test func unreadableRetryAfterIsOnlyNoted() throws {
        let reading = try Hints.retryAfter(.text("soon"), nowMs: t0)
        #expect(reading == .unreadable("ignoring retryAfter \"soon\": neither seconds nor an HTTP date"))
    }

    // MARK: Durations

    /// Hostile input: thousands of parts, or parts whose sum passes Int64, are no duration
    /// (and never a crash); a duration past the end of time is no deadline.
    @Test func overlongOrOverflowingDurationsAreNotDurations() throws {
        let huge = String(repeating: "106000000d", count: 1200)
        #expect(DurationText.milliseconds(huge) == nil)
        #expect(DurationText.milliseconds(String(repeating: "999999999999d", count: 2)) == nil)
        #expect(DurationText.milliseconds("1d2h3m4s5ms") == 93_784_005)
        #expect(DurationText.milliseconds("1d1d1d1d1d1d1d1d1d") == nil, "more than eight parts")
        if case .until = try? Hints.retryAfter(.text(huge), nowMs: t0) { Issue.record("a hostile hint became a deadline") }
    }

    // MARK: Bodies

    /// google.rpc.RetryInfo in an error's details, as Gemini sends it.
    @Test(arguments: [("30s", 30_000), ("1.5s", 1500)] as [(String, Int64)])
    func jsonRetryDelay(_ delay: String, _ ms: Int64) {
        let body = #"{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"\#(delay)"}]}}"#
        let reading = Hints.inBody(body, nowMs: t0, timeZone: utc)
        #expect(reading.hints == [Hint(source: .retryDelay, untilMs: t0 + ms)])
        #expect(reading.notes.isEmpty)
        #expect(!reading.mentionsDailyQuota)
    }

    @Test(arguments: [
        ("Rate limit exceeded. Limits reset after 3h22m41s.", 12_161_000),
        ("Your quota resets after 1m.", 60_000),
        ("RESET AFTER 90s", 90_000),
    ] as [(String, Int64)])
    func resetAfterInText(_ body: String, _ ms: Int64) {
        #expect(Hints.inBody(body, nowMs: t0, timeZone: utc).hints == [Hint(source: .resetAfter, untilMs: t0 + ms)])
    }

    @Test(arguments: [
        (#"{"resetAt":"2026-01-01T01:30:00Z"}"#, t0 + 90 * minute),
        (#"{"resetAt": "2026-01-01T01:30:00.250Z"}"#, t0 + 90 * minute + 250),
        (#"{"resetAt":"2026-01-01T02:30:00+01:00"}"#, t0 + 90 * minute),
        (#"{"resetAt":"2026-01-01T02:30:00+0100"}"#, t0 + 90 * minute),
        (#"{"resetAt":1767231000000}"#, t0 + 90 * minute),  // epoch ms
        (#"{"resetAt":1767231000}"#, t0 + 90 * minute),  // epoch seconds
        ("quota resetAt=2026-01-01T01:30:00Z; try later", t0 + 90 * minute),
        (#"{"reset_at":"2026-01-02"}"#, t0 + day),  // a date: its local midnight
        (#"{"resetAt":"07:00"}"#, t0 + 7 * hour),  // daily: the next 07:00 local
        (#"{"resetAt":"08:00+01:00"}"#, t0 + 7 * hour),
    ])
    func resetAt(_ body: String, _ until: Int64) {
        let reading = Hints.inBody(body, nowMs: t0, timeZone: utc)
        #expect(reading.hints == [Hint(source: .resetAt, untilMs: until)], "\(reading)")
    }

    /// A daily reset time without an offset is local: 07:00 in Tokyo is 22:00 UTC the day before.
    @Test func dailyResetTimeIsLocal() {
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        let reading = Hints.inBody(#"{"resetAt":"07:00"}"#, nowMs: t0, timeZone: tokyo)
        #expect(reading.hints == [Hint(source: .resetAt, untilMs: t0 + 22 * hour)])
        // 2026-01-01T00:00:00 local Tokyo time is 2025-12-31T15:00Z, which has passed.
        let past = Hints.inBody(#"{"resetAt":"2026-01-01T00:00:00"}"#, nowMs: t0, timeZone: tokyo)
        #expect(past.hints.isEmpty && past.notes.count == 1)
    }

    @Test func unusableBodyHintsAreNotedNotUsed() {
        let reading = Hints.inBody(
            #"{"retryDelay":"whenever","resetAt":"2025-12-31T00:00:00Z","message":"reset after 2y"}"#, nowMs: t0, timeZone: utc)
        #expect(reading.hints.isEmpty)
        #expect(reading.notes == [
            "ignoring a retryDelay hint in the body: not a duration or a time",
            "ignoring a resetAfter hint in the body: not a duration or a time",
            "ignoring a resetAt hint in the body: not in the future",
        ])
    }

    @Test(arguments: [
        ("You have exhausted your daily quota for this model.", true),
        (#"{"error":{"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded for metric: requests per day"}}"#, true),
        ("Quota exceeded: GenerateRequestsPerDayPerProjectPerModel", true),
        ("Rate limit exceeded: too many requests per minute", false),
        ("quota exceeded for this minute", false),
    ])
    func dailyQuotaIsRecognized(_ body: String, _ daily: Bool) {
        #expect(Hints.inBody(body, nowMs: t0, timeZone: utc).mentionsDailyQuota == daily)
    }

    /// Only the first 64 KiB of a body are searched.
    @Test func longBodiesAreSearchedInTheirFirst64KiB() {
        let padding = String(repeating: "x", count: Hints.bodyScanLimit)
        #expect(Hints.inBody(#"{"retryDelay":"30s"}"# + padding, nowMs: t0, timeZone: utc).hints.count == 1)
        #expect(Hints.inBody(padding + #"{"retryDelay":"30s"}"#, nowMs: t0, timeZone: utc).hints.isEmpty)
    }
}
