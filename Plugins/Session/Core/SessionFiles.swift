import Foundation
import ModuleSupport

/// omnish's `meta.json` (crates/omnish-store/src/session.rs): times are RFC 3339 strings.
public struct SessionMeta: Codable, Sendable, Equatable {
    public var session_id: String
    public var parent_session_id: String?
    public var started_at: String
    public var ended_at: String?
    public var attrs: [String: String]

    public init(session_id: String, parent_session_id: String?, started_at: String, ended_at: String?, attrs: [String: String]) {
        self.session_id = session_id
        self.parent_session_id = parent_session_id
        self.started_at = started_at
        self.ended_at = ended_at
        self.attrs = attrs
    }

    /// Always writes `parent_session_id` and `ended_at` (as `null`), as serde does.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(session_id, forKey: .session_id)
        try c.encode(parent_session_id, forKey: .parent_session_id)
        try c.encode(started_at, forKey: .started_at)
        try c.encode(ended_at, forKey: .ended_at)
        try c.encode(attrs, forKey: .attrs)
    }
}

/// One entry of omnish's `commands.json` (crates/omnish-store/src/command.rs): times are epoch
/// ms, offset and length byte positions in `stream.bin` on record boundaries.
public struct CommandRecord: Codable, Sendable, Equatable {
    public var command_id: String
    public var session_id: String
    public var command_line: String?
    public var cwd: String?
    public var started_at: UInt64
    public var ended_at: UInt64?
    public var output_summary: String
    public var stream_offset: UInt64
    public var stream_length: UInt64
    public var exit_code: Int32?

    public init(command_id: String, session_id: String, command_line: String?, cwd: String?, started_at: UInt64, ended_at: UInt64?,
                output_summary: String, stream_offset: UInt64, stream_length: UInt64, exit_code: Int32?) {
        self.command_id = command_id
        self.session_id = session_id
        self.command_line = command_line
        self.cwd = cwd
        self.started_at = started_at
        self.ended_at = ended_at
        self.output_summary = output_summary
        self.stream_offset = stream_offset
        self.stream_length = stream_length
        self.exit_code = exit_code
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(command_id, forKey: .command_id)
        try c.encode(session_id, forKey: .session_id)
        try c.encode(command_line, forKey: .command_line)
        try c.encode(cwd, forKey: .cwd)
        try c.encode(started_at, forKey: .started_at)
        try c.encode(ended_at, forKey: .ended_at)
        try c.encode(output_summary, forKey: .output_summary)
        try c.encode(stream_offset, forKey: .stream_offset)
        try c.encode(stream_length, forKey: .stream_length)
        try c.encode(exit_code, forKey: .exit_code)
    }
}

/// The RFC 3339 UTC time omnish writes (chrono's `to_rfc3339`, here to the millisecond) and the
/// directory name it derives from it: `<started_at with ':' as '-'>_<sessionId>`.
public enum SessionTime {
    public static func rfc3339(ms: Int64) -> String {
        let seconds = ms.quotientFloored(by: 1000)
        let millis = ms - seconds * 1000
        let days = seconds.quotientFloored(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civil(days)
        let text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        return text + (millis == 0 ? "" : String(format: ".%03d", millis)) + "+00:00"
    }

    public static func directoryName(startedAt: String, sessionId: String) -> String {
        startedAt.replacingOccurrences(of: ":", with: "-") + "_" + sessionId
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = z.quotientFloored(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension Int64 {
    func quotientFloored(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}

extension SessionTime {
    /// Epoch ms of an RFC 3339 time in meta.json (omnish's or ours).
    public static func epochMs(_ text: String) -> Int64? {
        ISO8601Time.epochMs(text, nowMs: 0, timeZone: TimeZone(identifier: "UTC")!)
    }
}
