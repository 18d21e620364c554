import Dispatch

/// When the caller of a call stops waiting (DESIGN.md, "ABI 1.2": every call has a deadline).
///
/// A client's call gets `--call-timeout-ms` from when the host read it, a module's call through
/// `mh_host_api.call` the same from when it was made, and one through `call_v2` the deadline its
/// caller gave (at most `MH_MAX_DEADLINE_MS`, 24 h). Past it, the call fails with -32004 wherever
/// it is: queued, inside the plugin, or pending.
struct CallDeadline: Sendable {
    /// The monotonic clock's reading (`DispatchTime.uptimeNanoseconds`) at the deadline,
    /// saturating: a deadline past the clock's range is never.
    let nanoseconds: UInt64
    /// How long the caller gave, for messages.
    let milliseconds: UInt64
    /// True when a module set it with `call_v2`, false for `--call-timeout-ms`.
    let fromCaller: Bool

    /// The deadline `milliseconds` from now.
    static func after(milliseconds: UInt64, fromCaller: Bool = false) -> CallDeadline {
        let (timeout, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        return after(nanoseconds: overflow ? .max : timeout, milliseconds: milliseconds, fromCaller: fromCaller)
    }

    /// The deadline `nanoseconds` (the same time as `milliseconds`) from now: the call path's
    /// form, with the multiplication done once.
    @inline(__always)
    static func after(nanoseconds: UInt64, milliseconds: UInt64, fromCaller: Bool = false) -> CallDeadline {
        let (sum, overflow) = DispatchTime.now().uptimeNanoseconds.addingReportingOverflow(nanoseconds)
        return CallDeadline(nanoseconds: overflow ? .max : sum, milliseconds: milliseconds, fromCaller: fromCaller)
    }

    /// The milliseconds left at the monotonic reading `now` (0 once due).
    func remainingMilliseconds(at now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Int64 {
        nanoseconds <= now ? 0 : Int64(clamping: (nanoseconds - now) / 1_000_000)
    }

    /// Why a call past this deadline failed, for its -32004.
    var origin: String { fromCaller ? "the deadline its caller set with call_v2" : "--call-timeout-ms" }
}
