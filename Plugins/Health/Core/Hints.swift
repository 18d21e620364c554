import Foundation
import ModuleContracts
import ModHostSupport
import ModuleSupport

/// Where a cooldown's deadline came from.
public enum HintSource: String, Sendable, Codable {
    /// The `Retry-After` header: seconds or an HTTP-date.
    case retryAfter
    /// JSON `"retryDelay": "30s"` (google.rpc.RetryInfo).
    case retryDelay
    /// Text like `reset after 3h22m41s`.
    case resetAfter
    /// `resetAt`: an ISO-8601 time, a daily time of day, or epoch ms.
    case resetAt
}

/// A deadline a provider named.
public struct Hint: Sendable, Equatable {
    public var source: HintSource
    public var untilMs: Int64
    public init(source: HintSource, untilMs: Int64) {
        self.source = source
        self.untilMs = untilMs
    }
}

/// Finds and checks hints: in a `Retry-After` value (the caller's own field, so a negative or
/// absurd one is refused) and in a response body (free text, so what cannot be read is only
/// noted for the log).
public enum Hints {
    /// No hint may name a time more than a year ahead.
    public static let absurdMs: Int64 = 31_536_000_000
    /// Bodies are searched in their first 64 KiB.
    public static let bodyScanLimit = 65_536

    /// What a `Retry-After` value says.
    public enum Reading: Sendable, Equatable {
        /// The deadline it names (possibly not in the future).
        case until(Int64)
        /// It could not be read; the note says why (for the log).
        case unreadable(String)
    }

    /// Reads a `Retry-After` value.
    ///
    /// - Throws: `HealthInputError` naming `retryAfter` when it is negative or more than a year.
    public static func retryAfter(_ value: ProviderError.RetryAfter, nowMs: Int64) throws(HealthInputError) -> Reading {
        switch value {
        case .seconds(let seconds):
            return .until(HostTime.deadline(nowMs, plus: try checkedMs(seconds: seconds, shown: format(seconds))))
        case .text(let raw):
            let text = raw.trimmingASCIISpaces
            if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }),
                let seconds = Double(text)
            {
                return .until(HostTime.deadline(nowMs, plus: try checkedMs(seconds: seconds, shown: LogText.quote(text))))
            }
            if let date = HTTPDate.epochMs(String(text), nowMs: nowMs) {
                guard HostTime.elapsed(from: nowMs, to: date) <= absurdMs else {
                    throw HealthInputError("retryAfter \(LogText.quote(text)) is absurd: more than a year ahead")
                }
                return .until(date)
            }
            if let ms = DurationText.milliseconds(String(text)) {
                guard ms <= absurdMs else { throw HealthInputError("retryAfter \(LogText.quote(text)) is absurd: more than a year") }
                return .until(HostTime.deadline(nowMs, plus: ms))
            }
            return .unreadable("ignoring retryAfter \(LogText.quote(text)): neither seconds nor an HTTP date")
        }
    }

    private static func checkedMs(seconds: Double, shown: String) throws(HealthInputError) -> Int64 {
        guard seconds.isFinite else { throw HealthInputError("retryAfter \(shown) is not a number of seconds") }
        guard seconds >= 0 else { throw HealthInputError("retryAfter \(shown) is negative") }
        guard seconds * 1000 <= Double(absurdMs) else {
            throw HealthInputError("retryAfter \(shown) is absurd: more than a year (\(absurdMs / 1000) s)")
        }
        return Int64((seconds * 1000).rounded(.up))
    }

    /// What a response body says.
    public struct BodyReading: Sendable, Equatable {
        public var hints: [Hint] = []
        /// Hints found but not usable (unreadable, past, absurd), for the log: which kind and why,
    /// never the text (a response body may carry anything, secrets included).
        public var notes: [String] = []
        /// The body mentions a daily quota ("quota" and "day"/"daily"): a 429 is then `quota`.
        public var mentionsDailyQuota = false
    }

    /// Looks for `retryDelay`, `reset after <duration>` and `resetAt` in `body`.
    public static func inBody(_ body: String, nowMs: Int64, timeZone: TimeZone) -> BodyReading {
        let original = Array(body.utf8.prefix(bodyScanLimit))
        let text = original.map(\.lowercased)
        var reading = BodyReading()
        reading.mentionsDailyQuota = text.firstIndex(of: Array("quota".utf8)) != nil
            && (text.firstIndex(of: Array("day".utf8)) != nil || text.firstIndex(of: Array("daily".utf8)) != nil)
        for (needle, source) in needles {
            var from = 0
            var found = 0
            while found < 8, let index = text.firstIndex(of: needle, from: from) {
                from = index + needle.count
                found += 1
                let value = valueText(original, after: from, source: source)
                guard let until = deadline(value, source: source, nowMs: nowMs, timeZone: timeZone) else {
                    reading.notes.append("ignoring a \(source.rawValue) hint in the body: not a duration or a time")
                    continue
                }
                if until <= nowMs {
                    reading.notes.append("ignoring a \(source.rawValue) hint in the body: not in the future")
                } else if HostTime.elapsed(from: nowMs, to: until) > absurdMs {
                    reading.notes.append("ignoring a \(source.rawValue) hint in the body: more than a year ahead")
                } else {
                    reading.hints.append(Hint(source: source, untilMs: until))
                }
            }
        }
        return reading
    }

    private static let needles: [([UInt8], HintSource)] = [
        (Array("retrydelay".utf8), .retryDelay), (Array("reset after".utf8), .resetAfter),
        (Array("resets after".utf8), .resetAfter), (Array("resetat".utf8), .resetAt), (Array("reset_at".utf8), .resetAt),
    ]

    /// The value after a key in `text` (the body as it came): skips `"`, `:`/`=` and spaces,
    /// then reads a quoted string or a bare token (up to `,`, `}`, `]`, `"`, `;`, a space or a
    /// newline; a duration may contain spaces).
    private static func valueText(_ text: [UInt8], after start: Int, source: HintSource) -> String {
        var scan = TextScan(text, at: start)
        if source != .resetAfter {
            _ = scan.take(0x22)
            scan.skipSpaces()
            _ = scan.take(0x3A) || scan.take(0x3D)
            scan.skipSpaces()
        } else {
            scan.skipSpaces()
        }
        if scan.take(0x22) {
            let begin = scan.position
            while let byte = scan.peek, byte != 0x22, scan.position - begin < 100 { scan.position += 1 }
            return String(decoding: text[begin..<scan.position], as: UTF8.self)
        }
        if source == .resetAfter {
            var duration = scan
            if DurationText.read(&duration) != nil {
                return String(decoding: text[scan.position..<duration.position], as: UTF8.self)
            }
        }
        let begin = scan.position
        let stops: Set<UInt8> = [0x2C, 0x7D, 0x5D, 0x22, 0x20, 0x0A, 0x0D, 0x09, 0x3B]
        while let byte = scan.peek, !stops.contains(byte), scan.position - begin < 100 { scan.position += 1 }
        var end = scan.position
        if source == .resetAfter, end > begin, text[end - 1] == 0x2E { end -= 1 }  // "…after 1m."
        return String(decoding: text[begin..<end], as: UTF8.self)
    }

    private static func deadline(_ value: String, source: HintSource, nowMs: Int64, timeZone: TimeZone) -> Int64? {
        switch source {
        case .retryDelay, .resetAfter:
            // A duration past the end of time is capped there (and never an overflow); the
            // caller then finds it more than a year ahead.
            return DurationText.milliseconds(value).map { HostTime.deadline(nowMs, plus: $0) }
        case .resetAt:
            if !value.isEmpty, value.utf8.allSatisfy({ $0.isDigit || $0 == 0x2E }), let number = Double(value) {
                guard number < 1e15 else { return nil }
                // Epoch ms; a number too small for that (before 1973) is epoch seconds.
                return number >= 1e11 ? Int64(number.rounded(.up)) : Int64((number * 1000).rounded(.up))
            }
            return ISO8601Time.epochMs(value, nowMs: nowMs, timeZone: timeZone)
        case .retryAfter:
            return nil
        }
    }

    /// `-5`, `1.5`, `1e+12`: integral values without a fraction.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
