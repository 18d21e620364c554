import Foundation
import Testing
@testable import TaskCore

/// DST days against croniter's published cases (test_croniter.py: test_std_dst, test_std_dst2,
/// test_dst_iter, test_dst_issue90_st31ny) and MODULES.md's rule where they differ: a time
/// skipped by a forward jump fires when the gap ends; in a repeated hour a fixed-hour job fires
/// in the first occurrence, an every-hour job in each. Expected instants are written in UTC so
/// the offset is explicit.
@Suite struct CronDSTTests {
    static func utc(_ text: String) -> Int64 { CronVectorTests.ms(text, "UTC") }

    static func expect(_ expression: String, zone: String, fromUTC: String, _ expectedUTC: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let got = try CronSchedule(expression).preview(after: utc(fromUTC), count: expectedUTC.count, in: CronZone(identifier: zone)!)
        #expect(got == expectedUTC.map(utc), "\(expression) in \(zone) from \(fromUTC)Z", sourceLocation: sourceLocation)
    }

    @Test func warsawAsCroniterHasIt() throws {
        // test_std_dst: 2017-03-26 02:00+01 jumps to 03:00+02. Midnight jobs are untouched.
        try Self.expect("0 0 * * *", zone: "Europe/Warsaw", fromUTC: "2017-03-25 23:00:00", ["2017-03-26 22:00:00"])
        // `0 * * * *` from 01:00+01: 02:00 is skipped and fires at the gap's end, 03:00+02 (01:00Z).
        try Self.expect("0 * * * *", zone: "Europe/Warsaw", fromUTC: "2017-03-26 00:00:00", ["2017-03-26 01:00:00", "2017-03-26 02:00:00"])
        // 2017-10-29 03:00+02 falls back to 02:00+01: an every-hour job fires in both 02:00s.
        try Self.expect("0 * * * *", zone: "Europe/Warsaw", fromUTC: "2017-10-28 23:59:00",
                        ["2017-10-29 00:00:00", "2017-10-29 01:00:00", "2017-10-29 02:00:00", "2017-10-29 03:00:00"])
    }

    @Test func usEasternSpringForward() throws {
        // 2015-03-08 02:00 EST (07:00Z) jumps to 03:00 EDT. A fixed 02:30 fires at 03:00 EDT.
        try Self.expect("30 2 * * *", zone: "US/Eastern", fromUTC: "2015-03-08 05:00:00", ["2015-03-08 07:00:00", "2015-03-09 06:30:00"])
        // Every minute: 01:59 EST, then the whole skipped hour is one run at 03:00 EDT, then 03:01.
        try Self.expect("* * * * *", zone: "US/Eastern", fromUTC: "2015-03-08 06:58:00",
                        ["2015-03-08 06:59:00", "2015-03-08 07:00:00", "2015-03-08 07:01:00"])
    }

    @Test func usEasternFallBack() throws {
        // 2015-11-01 02:00 EDT (06:00Z) falls back to 01:00 EST: 01:30 comes twice.
        // A fixed-hour job fires in the first 01:30 only (croniter 7 fires it twice: MODULES.md wins).
        try Self.expect("30 1 * * *", zone: "US/Eastern", fromUTC: "2015-11-01 04:00:00", ["2015-11-01 05:30:00", "2015-11-02 06:30:00"])
        // An every-hour job fires in each real hour.
        try Self.expect("30 * * * *", zone: "US/Eastern", fromUTC: "2015-11-01 04:00:00",
                        ["2015-11-01 04:30:00", "2015-11-01 05:30:00", "2015-11-01 06:30:00", "2015-11-01 07:30:00"])
        // From inside the second 01:xx hour, the every-hour job's next run is in that hour.
        try Self.expect("0,30 * * * *", zone: "US/Eastern", fromUTC: "2015-11-01 05:30:00",
                        ["2015-11-01 06:00:00", "2015-11-01 06:30:00", "2015-11-01 07:00:00"])
    }

    @Test func berlinBothWays() throws {
        // 2021-03-28 02:00 CET (01:00Z) jumps to 03:00 CEST: 02:30:00 fires at 03:00 CEST.
        try Self.expect("0 30 2 * * *", zone: "Europe/Berlin", fromUTC: "2021-03-27 12:00:00", ["2021-03-28 01:00:00", "2021-03-29 00:30:00"])
        // 2021-10-31 03:00 CEST (01:00Z) falls back to 02:00 CET: the fixed hour 2 runs in the first only.
        try Self.expect("*/30 2 * * *", zone: "Europe/Berlin", fromUTC: "2021-10-30 22:00:00",
                        ["2021-10-31 00:00:00", "2021-10-31 00:30:00", "2021-11-01 01:00:00"])
        // @hourly is an every-hour job: 02:00 CEST, 02:00 CET, 03:00 CET.
        try Self.expect("@hourly", zone: "Europe/Berlin", fromUTC: "2021-10-30 23:30:00",
                        ["2021-10-31 00:00:00", "2021-10-31 01:00:00", "2021-10-31 02:00:00"])
    }

    @Test func parisIssue90FollowsTheGapRule() throws {
        // test_dst_issue90_st31ny: `1 2 * * *` from 2020-03-29 01:59:55+01. croniter answers
        // 2020-03-30 02:01 (it skips the day); MODULES.md's rule wins: 02:01 is skipped, so it
        // fires when the gap ends, 03:00+02 (01:00Z).
        try Self.expect("1 2 * * *", zone: "Europe/Paris", fromUTC: "2020-03-29 00:59:55", ["2020-03-29 01:00:00", "2020-03-30 00:01:00"])
    }

    @Test func midnightTransitions() throws {
        // test_std_dst2 (São Paulo, 2018-02-18 00:00-02 falls back to 17th 23:00-03): midnight is once, -03.
        try Self.expect("0 0 * * *", zone: "America/Sao_Paulo", fromUTC: "2018-02-18 00:00:00", ["2018-02-18 03:00:00"])
        try Self.expect("0 0 * * *", zone: "America/Sao_Paulo", fromUTC: "2018-02-18 03:00:00", ["2018-02-19 03:00:00"])
        // test_dst_iter (Hebron, 2022-03-27 00:00+02 jumps to 01:00+03): midnight fires at 01:00+03.
        // croniter's first answer there repeats its start time; ours is strictly after it.
        try Self.expect("0 0 * * *", zone: "Asia/Hebron", fromUTC: "2022-03-25 22:00:00", ["2022-03-26 22:00:00", "2022-03-27 21:00:00"])
    }
}
