import Foundation
import ModuleSupport
import Testing

/// The text parsers modules share: HTTP dates (RFC 9110 §5.6.7, all three forms) and durations.
@Suite struct ParserTests {
    @Test func httpDateIMFFixdateOfOurDay() {
        #expect(HTTPDate.epochMs("Thu, 01 Jan 2026 00:05:00 GMT", nowMs: t0) == t0 + 5 * minute)
        #expect(HTTPDate.epochMs("Sat, 29 Feb 2028 23:59:59 GMT", nowMs: t0) == 1_835_481_599_000)
    }

    /// RFC 850 years: one more than 50 years ahead means the previous century.
    @Test func rfc850TwoDigitYears() {
        #expect(HTTPDate.epochMs("Thursday, 01-Jan-26 00:05:00 GMT", nowMs: t0) == t0 + 5 * minute)
        #expect(HTTPDate.epochMs("Sunday, 06-Nov-94 08:49:37 GMT", nowMs: t0) == 784_111_777_000)
    }

    @Test(arguments: [
        "Thu, 01 Jan 2026 00:05:00 UTC",  // not GMT
        "Thu, 1 Jan 2026 00:05:00 GMT",  // one-digit day in IMF-fixdate
        "Thu, 31 Feb 2026 00:05:00 GMT",  // no such day
        "Thu, 01 Foo 2026 00:05:00 GMT",
        "Thu, 01 Jan 2026 24:05:00 GMT",
        "2026-01-01T00:05:00Z",
        "",
    ])
    func notHTTPDates(_ text: String) {
        #expect(HTTPDate.epochMs(text, nowMs: t0) == nil)
    }

    @Test(arguments: [
        ("30s", 30_000), ("1.5s", 1500), ("0.001s", 1), ("0.0015s", 2), ("3h22m41s", 12_161_000), ("3h 22m 41s", 12_161_000),
        ("22m41s", 1_361_000), ("500ms", 500), ("1m", 60_000), ("5 minutes", 300_000), ("2 hours", 7_200_000), ("45", 45_000),
        ("1d", 86_400_000),
    ] as [(String, Int64)])
    func durations(_ text: String, _ ms: Int64) {
        #expect(DurationText.milliseconds(text) == ms)
    }

    @Test(arguments: ["", "s", "3 requests", "1m30", "abc", "1.5.5s", "1234567890123456789012s"])
    func notDurations(_ text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }
}
