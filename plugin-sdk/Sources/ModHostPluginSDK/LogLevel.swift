/// The level of a `PluginHost.log` message, as swift-log's.
public enum LogLevel: Int32, Sendable, CaseIterable, Comparable {
    case trace = 0, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}
