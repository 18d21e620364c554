import Foundation
@testable import ModuleSupport
import Testing
import ModuleSupport

/// "The next local midnight" in a given time zone, never the process's.
@Suite struct CivilTimeTests {
    @Test(arguments: [
        ("UTC", t0 + 10 * hour, t0 + day),
        ("UTC", t0, t0 + day),  // at midnight: the next one
        ("UTC", t0 + day - 1, t0 + day),
        ("Asia/Tokyo", t0 + 10 * hour, t0 + 15 * hour),  // UTC+9
        ("America/Los_Angeles", t0 + 10 * hour, t0 + 32 * hour),  // UTC-8: 02:00 local
        ("Asia/Kolkata", t0, t0 + 18 * hour + 30 * minute),  // UTC+5:30
    ])
    func nextMidnight(_ zone: String, _ now: Int64, _ midnight: Int64) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        #expect(CivilTime.nextMidnight(after: now, in: timeZone) == midnight)
    }

    /// Days that change to or from daylight saving time are 23 and 25 hours long.
    @Test func daylightSavingDays() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        // 2026-03-08 00:30 EST (05:30Z) → 2026-03-09 00:00 EDT (04:00Z): 22.5 h later.
        let spring: Int64 = 1_772_947_800_000
        #expect(CivilTime.nextMidnight(after: spring, in: newYork) == spring + 22 * hour + 30 * minute)
        // 2026-11-01 00:30 EDT (04:30Z) → 2026-11-02 00:00 EST (05:00Z): 24.5 h later.
        let autumn: Int64 = 1_793_507_400_000
        #expect(CivilTime.nextMidnight(after: autumn, in: newYork) == autumn + 24 * hour + 30 * minute)
    }

    @Test func isoTimes() throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        #expect(ISO8601Time.epochMs("2026-01-01T09:00:00", nowMs: t0, timeZone: tokyo) == t0)
        #expect(ISO8601Time.epochMs("2026-01-01 00:00:00Z", nowMs: t0, timeZone: tokyo) == t0)
        #expect(ISO8601Time.epochMs("2026-01-01T00:00:00.5Z", nowMs: t0, timeZone: tokyo) == t0 + 500)
        #expect(ISO8601Time.epochMs("2025-12-31T19:00:00-05:00", nowMs: t0, timeZone: tokyo) == t0)
        #expect(ISO8601Time.epochMs("2026-02-30T00:00:00Z", nowMs: t0, timeZone: tokyo) == nil)
        #expect(ISO8601Time.epochMs("2026-01-01T25:00:00Z", nowMs: t0, timeZone: tokyo) == nil)
        #expect(ISO8601Time.epochMs("tomorrow", nowMs: t0, timeZone: tokyo) == nil)
    }
}
