import Foundation
import ModHostSupport

/// ISO-8601 times as `resetAt` hints carry them:
///
///     2026-01-01T17:00:00Z   2026-01-01T17:00:00.000+01:00   2026-01-01 17:00:00 (local)
///     2026-01-02 (local midnight starting that day)
///     17:00  17:00:00Z  17:00+09:00  (a daily reset: the next time of day it comes round)
///
/// Without an offset the time is local to `timeZone`.
public enum ISO8601Time {
    /// Epoch ms of `text`, or nil if it is not one of the forms above.
    public static func epochMs(_ text: String, nowMs: Int64, timeZone: TimeZone) -> Int64? {
        var scan = TextScan(text.trimmingASCIISpaces)
        if scan.bytes.count >= 5, scan.bytes[2] == 0x3A {
            return timeOfDay(&scan, nowMs: nowMs, timeZone: timeZone)
        }
        guard let year = scan.digits(4), scan.take(0x2D), let month = scan.digits(2), scan.take(0x2D),
            let day = scan.digits(2)
        else { return nil }
        if scan.atEnd {
            return CivilTime.localMs(year: year, month: month, day: day, hour: 0, minute: 0, second: 0, ms: 0, in: timeZone)
        }
        guard scan.take(0x54) || scan.take(0x74) || scan.take(0x20), let clock = clock(&scan) else { return nil }
        guard let offset = offset(&scan), scan.atEnd else { return nil }
        if let offset {
            guard let utc = CivilTime.utcMs(year: year, month: month, day: day, hour: clock.hour, minute: clock.minute,
                                            second: clock.second, ms: clock.ms)
            else { return nil }
            return utc.subtractingSaturating(offset)
        }
        return CivilTime.localMs(year: year, month: month, day: day, hour: clock.hour, minute: clock.minute,
                                 second: clock.second, ms: clock.ms, in: timeZone)
    }

    private static func timeOfDay(_ scan: inout TextScan, nowMs: Int64, timeZone: TimeZone) -> Int64? {
        guard let clock = clock(&scan), let offset = offset(&scan), scan.atEnd else { return nil }
        if let offset {
            let ofDay = Int64(clock.hour * 3_600_000 + clock.minute * 60_000 + clock.second * 1000 + clock.ms) - offset
            let wrapped = ((ofDay % CivilTime.msPerDay) + CivilTime.msPerDay) % CivilTime.msPerDay
            return CivilTime.nextUTCTime(ofDayMs: wrapped, after: nowMs)
        }
        return CivilTime.nextLocalTime(hour: clock.hour, minute: clock.minute, second: clock.second, after: nowMs,
                                       in: timeZone).map { $0.addingSaturating(Int64(clock.ms)) }
    }

    /// `HH:MM[:SS[.fff]]`
    private static func clock(_ scan: inout TextScan) -> (hour: Int, minute: Int, second: Int, ms: Int)? {
        guard let hour = scan.digits(2), scan.take(0x3A), let minute = scan.digits(2), hour <= 23, minute <= 59
        else { return nil }
        var second = 0
        var ms = 0
        if scan.take(0x3A) {
            guard let value = scan.digits(2), value <= 60 else { return nil }
            second = value
            if scan.take(0x2E) || scan.take(0x2C) {
                var digits = 0
                while let byte = scan.peek, byte.isDigit {
                    if digits < 3 { ms = ms * 10 + Int(byte - 0x30) }
                    digits += 1
                    scan.position += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 3) { ms *= 10 }
            }
        }
        return (hour, minute, second, ms)
    }

    /// `Z`, `±HH:MM`, `±HHMM` or `±HH` as milliseconds east of UTC; `.some(nil)` when absent
    /// (local time), nil when malformed.
    private static func offset(_ scan: inout TextScan) -> Int64?? {
        if scan.atEnd { return .some(nil) }
        if scan.take(0x5A) || scan.take(0x7A) { return .some(0) }
        let sign: Int64
        if scan.take(0x2B) { sign = 1 } else if scan.take(0x2D) { sign = -1 } else { return nil }
        guard let hours = scan.digits(2), hours <= 23 else { return nil }
        var minutes = 0
        if scan.take(0x3A) {
            guard let value = scan.digits(2) else { return nil }
            minutes = value
        } else if let value = scan.digits(2) {
            minutes = value
        }
        guard minutes <= 59 else { return nil }
        return .some(sign * Int64(hours * 3_600_000 + minutes * 60_000))
    }
}
