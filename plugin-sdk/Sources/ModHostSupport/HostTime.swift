/// The host clock's range and the deadline arithmetic every module shares.
///
/// Host time is milliseconds since the Unix epoch (`now_ms`). A clock value outside
/// `validMs`, 1970-01-01T00:00:00.000Z through 9999-12-31T23:59:59.999Z, is refused where it
/// enters (`clock.set`, `clock.advance`, `--clock-start`), so modules only ever see times in
/// it. Deadlines computed from such a time and a delay from outside (a `Retry-After`, a
/// config value, a stored record) go through these helpers, which never trap and never leave
/// the range: a deadline past 9999 is "the end of time", which in practice means never.
///
///     let until = HostTime.deadline(nowMs, plus: retryMs)       // capped at latestMs
///     let quiet = HostTime.elapsed(from: lastErrorMs, to: nowMs) // never traps
public enum HostTime {
    /// 1970-01-01T00:00:00.000Z.
    public static let earliestMs: Int64 = 0
    /// 9999-12-31T23:59:59.999Z: the end of time as far as the host is concerned.
    public static let latestMs: Int64 = 253_402_300_799_999
    /// Every time the host clock may show.
    public static let validMs: ClosedRange<Int64> = earliestMs...latestMs
    /// The range as people read it, for error messages.
    public static let rangeText = "0...253402300799999 (1970-01-01 to 9999-12-31 UTC)"

    /// `ms` moved into `validMs`.
    @inlinable
    public static func clamped(_ ms: Int64) -> Int64 {
        min(max(ms, earliestMs), latestMs)
    }

    /// `nowMs + delayMs`, saturating, and within `validMs`: a deadline past the end of time is
    /// the end of time (a negative delay stops at the epoch).
    @inlinable
    public static func deadline(_ nowMs: Int64, plus delayMs: Int64) -> Int64 {
        clamped(nowMs.addingSaturating(delayMs))
    }

    /// `nowMs + delayMs` for an unsigned delay (a timer's), within `validMs`.
    @inlinable
    public static func deadline(_ nowMs: Int64, plus delayMs: UInt64) -> Int64 {
        deadline(nowMs, plus: Int64(clamping: delayMs))
    }

    /// Milliseconds from `earlier` to `later` (negative when `later` is before), saturating:
    /// for "how long since", where either side may come from a stored record or a clock that
    /// was set back.
    @inlinable
    public static func elapsed(from earlier: Int64, to later: Int64) -> Int64 {
        later.subtractingSaturating(earlier)
    }
}
