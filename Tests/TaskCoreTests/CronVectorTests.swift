import Foundation
import ModuleSupport
import Testing
@testable import TaskCore

/// Next-fire vectors from croniter's published tests (kiorky/croniter,
/// src/croniter/tests/test_croniter.py), as wall-clock times in the zone given. croniter's
/// six-field form puts seconds last (`min hour dom mon dow sec`); MODULES.md puts them first, so
/// `* * * * * 15,25` there is `15,25 * * * * *` here. Historic dates only: Foundation's bundled
/// zone data and the system's agree on them.
@Suite struct CronVectorTests {
    /// `yyyy-MM-dd HH:mm:ss` in `zone` to epoch ms (a wall time that exists once).
    static func ms(_ text: String, _ zone: String = "UTC") -> Int64 {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" }).map { Int($0)! }
        return CivilTime.localMs(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4],
                                 second: parts.count > 5 ? parts[5] : 0, ms: 0, in: TimeZone(identifier: zone)!)!
    }

    static func runs(_ expression: String, from: String, count: Int, zone: String = "UTC") throws -> [Int64] {
        try CronSchedule(expression).preview(after: ms(from, zone), count: count, in: CronZone(identifier: zone)!)
    }

    static func expect(_ expression: String, from: String, _ expected: [String], zone: String = "UTC",
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let got = try runs(expression, from: from, count: expected.count, zone: zone)
        #expect(got == expected.map { ms($0, zone) }, "\(expression) from \(from)", sourceLocation: sourceLocation)
    }

    @Test func secondsMinutesHours() throws {
        // testSecondSec: `* * * * * 15,25` from 2012-04-06 13:26:10.
        try Self.expect("15,25 * * * * *", from: "2012-04-06 13:26:10", ["2012-04-06 13:26:15", "2012-04-06 13:26:25", "2012-04-06 13:27:15"])
        // testSecondRepeat: `* * * * * */15` from 13:26:36.
        try Self.expect("*/15 * * * * *", from: "2012-04-06 13:26:36", ["2012-04-06 13:26:45", "2012-04-06 13:27:00", "2012-04-06 13:27:15"])
        // testMinute: `*/5 * * * *` from 2010-01-23 12:18: 20, …, 55, then 13:00.
        let five = try Self.runs("*/5 * * * *", from: "2010-01-23 12:18:00", count: 9)
        #expect(five.first == Self.ms("2010-01-23 12:20:00") && five[7] == Self.ms("2010-01-23 12:55:00") && five[8] == Self.ms("2010-01-23 13:00:00"))
        // testHour: `0 */3 * * *` from 2010-01-24 12:02: 15:00, 18:00, 21:00, then the 25th 00:00.
        try Self.expect("0 */3 * * *", from: "2010-01-24 12:02:00", ["2010-01-24 15:00:00", "2010-01-24 18:00:00", "2010-01-24 21:00:00", "2010-01-25 00:00:00"])
        // test_next_when_now_satisfies_cron: strictly after.
        try Self.expect("4 * * * *", from: "2018-05-21 00:04:00", ["2018-05-21 01:04:00"])
    }

    @Test func daysMonthsAndLeapDays() throws {
        // testDay: `0 0 */3 * *` from 2010-02-24 12:09: 25th, 28th, March 1st.
        try Self.expect("0 0 */3 * *", from: "2010-02-24 12:09:00", ["2010-02-25 00:00:00", "2010-02-28 00:00:00", "2010-03-01 00:00:00"])
        // testDay, leap years: 1996 and 2000 have a 29 February.
        try Self.expect("0 0 * * *", from: "1996-02-27 00:00:00", ["1996-02-28 00:00:00", "1996-02-29 00:00:00"])
        try Self.expect("0 0 * * *", from: "2000-02-27 00:00:00", ["2000-02-28 00:00:00", "2000-02-29 00:00:00"])
        // test_bug_62_leap (forward): `15 22 29 2 *` after 2020-02-29 is 2024's.
        try Self.expect("15 22 29 2 *", from: "2020-03-01 00:00:00", ["2024-02-29 22:15:00", "2028-02-29 22:15:00"])
        // testMonth: `0 0 1 * *` from 2010-01-25.
        try Self.expect("0 0 1 * *", from: "2010-01-25 00:00:00", ["2010-02-01 00:00:00", "2010-03-01 00:00:00"])
        // test_multiple_months.
        try Self.expect("0 0 1 3,6,9,12 *", from: "2016-03-01 00:00:00", ["2016-06-01 00:00:00"])
        try Self.expect("0 0 1 3,6,9,12 *", from: "2016-12-03 10:00:00", ["2017-03-01 00:00:00"])
        // test_std_dst3's forward half (Adelaide): `0 0 24 * *` from 2020-04-15.
        try Self.expect("0 0 24 * *", from: "2020-04-15 00:00:00", ["2020-04-24 00:00:00"], zone: "Australia/Adelaide")
        // @yearly is `0 0 1 1 *`.
        try Self.expect("@yearly", from: "2010-06-01 00:00:00", ["2011-01-01 00:00:00", "2012-01-01 00:00:00"])
        try Self.expect("@annually", from: "2011-01-01 00:00:00", ["2012-01-01 00:00:00"])
    }

    @Test func weekdaysAndTheVixieOrRule() throws {
        // testWeekDay: `0 0 * * sat` from 2010-02-25: 27 Feb, 6 Mar.
        try Self.expect("0 0 * * sat", from: "2010-02-25 00:00:00", ["2010-02-27 00:00:00", "2010-03-06 00:00:00"])
        // testWeekDay: `0 0 1 * wed` (day 1 OR Wednesday) from 2010-01-25: 27 Jan, 1 Feb, 3 Feb.
        try Self.expect("0 0 1 * wed", from: "2010-01-25 00:00:00", ["2010-01-27 00:00:00", "2010-02-01 00:00:00", "2010-02-03 00:00:00"])
        // testDomDowVixieCronBug: `0 16 */2 * sat` is odd days OR Saturdays.
        try Self.expect("0 16 */2 * sat", from: "2023-05-02 00:00:00",
                        ["2023-05-03 16:00:00", "2023-05-05 16:00:00", "2023-05-06 16:00:00", "2023-05-07 16:00:00"])
        // test_revert_issue_90_aka_support_DOW7 / test_sunday_ranges: 7 is Sunday, as 0.
        #expect(try CronSchedule("0 0 * * 7").dayOfWeek == CronSchedule("0 0 * * 0").dayOfWeek)
        try Self.expect("0 0 * * 5-7", from: "2024-01-01 00:00:00", ["2024-01-05 00:00:00", "2024-01-06 00:00:00", "2024-01-07 00:00:00", "2024-01-12 00:00:00"])
        // test_weekday_range: `0 0 * * mon-fri` skips the weekend (2024-01-05 is a Friday).
        try Self.expect("0 0 * * MON-FRI", from: "2024-01-05 00:00:00", ["2024-01-08 00:00:00"])
        try Self.expect("@weekly", from: "2024-01-05 00:00:00", ["2024-01-07 00:00:00"])
    }

    @Test func malformedExpressionsNameTheFieldAndPosition() {
        func problem(_ text: String) -> String {
            do { _ = try CronSchedule(text); return "parsed" } catch { return error.description }
        }
        #expect(problem("* * * *") == "at position 8: expected 5 or 6 fields (sec min hour dom mon dow), found 4")
        #expect(problem("0 61 * * * *") == "minute field at position 3: 61 is out of range 0-59")
        #expect(problem("* * * janu-jun *") == "month field at position 7: \"janu\" is not a number or a name (jan…dec)")
        #expect(problem("*/0 * * * *") == "minute field at position 3: step \"0\" must be a whole number of at least 1")
        #expect(problem("0 5-2 * * *") == "hour field at position 3: range \"5-2\" runs backwards (5 > 2)")
        #expect(problem("1,,2 * * * *") == "minute field at position 3: an empty list item")
        #expect(problem("0 0 30 2 *") == "day-of-month field at position 5: no month of the month field has any of these days: the schedule never fires")
        #expect(problem("@often") == "at position 1: unknown macro \"@often\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")
    }
}
