import Foundation
import ModHostSupport

/// Calendar arithmetic the hint parsers need: UTC dates by hand (exact and fast), local dates
/// through `Calendar` in a given time zone (never the process's implicitly).
public enum CivilTime {
    static let msPerDay: Int64 = 86_400_000

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Epoch ms of a UTC date and time, or nil if a field is out of range.
    public static func utcMs(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, ms: Int = 0) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second), (0...999).contains(ms)
        else { return nil }
        let seconds = Int64(hour * 3600 + minute * 60 + min(second, 59))  // a leap second reads as :59
        return days(year: year, month: month, day: day) * msPerDay + seconds * 1000 + Int64(ms)
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The first local midnight strictly after `nowMs` in `timeZone` (23 or 25 h away on a
    /// day that changes to or from daylight saving time).
    public static func nextMidnight(after nowMs: Int64, in timeZone: TimeZone) -> Int64 {
        let calendar = calendar(timeZone)
        let now = Date(timeIntervalSince1970: Double(nowMs) / 1000)
        let today = calendar.startOfDay(for: now)
        guard let next = calendar.date(byAdding: .day, value: 1, to: today), let ms = epochMs(next), ms > nowMs
        else { return HostTime.deadline(nowMs, plus: msPerDay) }
        return HostTime.clamped(ms)
    }

    /// Epoch ms of a local date and time in `timeZone` (a time skipped by DST moves forward).
    public static func localMs(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, ms: Int,
                        in timeZone: TimeZone) -> Int64? {
        guard utcMs(year: year, month: month, day: day, hour: hour, minute: minute, second: second, ms: ms) != nil
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
        guard let date = calendar(timeZone).date(from: components), let epoch = epochMs(date) else { return nil }
        return epoch.addingSaturating(Int64(ms))
    }

    /// The first time strictly after `nowMs` whose local time of day in `timeZone` is
    /// hour:minute:second (a daily reset time).
    public static func nextLocalTime(hour: Int, minute: Int, second: Int, after nowMs: Int64, in timeZone: TimeZone) -> Int64? {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        let now = Date(timeIntervalSince1970: Double(nowMs) / 1000)
        let wanted = DateComponents(hour: hour, minute: minute, second: second)
        guard let next = calendar(timeZone).nextDate(after: now, matching: wanted, matchingPolicy: .nextTime) else { return nil }
        return epochMs(next)
    }

    /// The first time strictly after `nowMs` whose UTC time of day is `offsetMs` past midnight.
    public static func nextUTCTime(ofDayMs offsetMs: Int64, after nowMs: Int64) -> Int64 {
        let midnight = floorDiv(nowMs, msPerDay) * msPerDay
        let today = midnight.addingSaturating(offsetMs)
        return today > nowMs ? today : today.addingSaturating(msPerDay)
    }

    /// A `Date`'s epoch ms, or nil when it is not a finite time Int64 can hold (a `Date` far
    /// from now, which `Int64(_:)` would trap on).
    public static func epochMs(_ date: Date) -> Int64? {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite, ms > -9.2e18, ms < 9.2e18 else { return nil }
        return Int64(ms)
    }

    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
