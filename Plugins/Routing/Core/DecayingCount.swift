import Foundation

/// A count that halves every `halfLifeMs` (recent errors of a key, for health-weighted).
public struct DecayingCount: Codable, Sendable, Equatable {
    public static let halfLifeMs: Double = 600_000
    public var value: Double
    public var atMs: Int64

    public init(value: Double = 0, atMs: Int64) {
        self.value = value
        self.atMs = atMs
    }

    /// The count at `nowMs` (a clock that stepped back decays nothing).
    public func value(at nowMs: Int64) -> Double {
        let elapsed = Double(max(0, nowMs.subtractingReportingOverflow(atMs).partialValue))
        return value * pow(0.5, elapsed / Self.halfLifeMs)
    }

    public mutating func add(_ delta: Double, at nowMs: Int64) {
        value = max(0, value(at: nowMs) + delta)
        atMs = max(atMs, nowMs)
    }

    /// health-weighted's factor: max(0.5, 1 − 0.1 × recent errors).
    public func factor(at nowMs: Int64) -> Double { max(0.5, 1 - 0.1 * value(at: nowMs)) }
}
