/// Identifies a timer started with `PluginHost.startTimer`, to cancel it.
public struct TimerID: Sendable, Hashable, CustomStringConvertible {
    /// The host's timer id (> 0).
    public let rawValue: UInt64

    init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "timer \(rawValue)" }
}
