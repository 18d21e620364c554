/// Integer arithmetic that clamps at the bounds instead of trapping.
///
/// Swift traps on overflow (SIGILL), and in a plugin that is the host's crash. Time arithmetic
/// on values that came from outside (a hint, a stored record, a clock someone set) must never
/// trap: a sum past `Int64.max` means "as late as can be", which callers then cap further
/// (`HostTime.deadline`).
extension Int64 {
    /// `self + other`, or `Int64.max` / `Int64.min` where that overflows.
    @inlinable
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, or `Int64.max` / `Int64.min` where that overflows.
    @inlinable
    public func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self × other`, or `Int64.max` / `Int64.min` where that overflows.
    @inlinable
    public func multipliedSaturating(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
