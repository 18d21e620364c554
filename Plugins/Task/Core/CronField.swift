/// One field of a cron expression as the set of values it allows, a bit per value (at most 60),
/// so the next allowed value at or after a given one is a mask and a count of trailing zeros.
public struct CronField: Sendable, Equatable {
    /// The field's meaning, range and names: a cron expression is six of these, in this order.
    public enum Kind: Int, Sendable, CaseIterable {
        case second, minute, hour, dayOfMonth, month, dayOfWeek

        public var name: String {
            switch self {
            case .second: "second"
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        /// The values a field may name; day-of-week takes 7 too (Sunday, folded into 0).
        var range: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: []
            }
        }

        /// The value of a name (`jan` is 1, `sun` is 0), case-insensitive.
        func value(ofName text: Substring) -> Int? {
            guard let index = names.firstIndex(of: text.lowercased()) else { return nil }
            return self == .month ? index + 1 : index
        }
    }

    public let kind: Kind
    /// Bit `v` set: value `v` allowed (day-of-week 7 is stored as 0).
    public let bits: UInt64
    /// The text starts with `*`: for the hour, a job that runs "every hour" (each real hour of a
    /// repeated one); see `CronSchedule.everyHour`.
    public let starred: Bool

    /// Whether the field allows every value of its range (then it does not "restrict" the day
    /// for the day-of-month / day-of-week rule).
    public var isFull: Bool {
        let range = kind == .dayOfWeek ? 0...6 : kind.range
        return bits == Self.mask(range)
    }

    public func contains(_ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    /// The least allowed value at or after `value`, or nil when none is left in the range.
    public func next(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let rest = bits & ~((1 << UInt64(value)) - 1)
        return rest == 0 ? nil : rest.trailingZeroBitCount
    }

    static func mask(_ range: ClosedRange<Int>) -> UInt64 {
        let width = UInt64(range.count)
        let ones: UInt64 = width >= 64 ? ~0 : (1 << width) - 1
        return ones << UInt64(range.lowerBound)
    }

    /// Parses `text`, which starts at character `offset` (0-based) of the whole expression:
    /// lists of `*`, `n`, `a-b`, each optionally `/step`, and names where the field has them.
    public init(_ text: Substring, kind: Kind, offset: Int) throws(CronError) {
        self.kind = kind
        starred = text.hasPrefix("*")
        var bits: UInt64 = 0
        var position = offset
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try Self.parseItem(item, kind: kind, at: position)
            position += item.count + 1
        }
        if kind == .dayOfWeek, bits & (1 << 7) != 0 { bits = (bits & ~(1 << 7)) | 1 }
        self.bits = bits
    }

    private static func parseItem(_ item: Substring, kind: Kind, at position: Int) throws(CronError) -> UInt64 {
        guard !item.isEmpty else { throw CronError(kind, position, "an empty list item") }
        let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var step = 1
        if parts.count == 2 {
            let stepPosition = position + parts[0].count + 1
            guard let value = Int(parts[1]), value >= 1 else {
                throw CronError(kind, stepPosition, "step \(quoted(parts[1])) must be a whole number of at least 1")
            }
            guard value <= kind.range.count else {
                throw CronError(kind, stepPosition, "step \(value) is larger than the field's range \(kind.range)")
            }
            step = value
        }
        let base = parts[0]
        var low: Int, high: Int
        if base == "*" {
            low = kind.range.lowerBound
            high = kind == .dayOfWeek ? 6 : kind.range.upperBound
        } else {
            let bounds = base.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            low = try value(bounds[0], kind: kind, at: position)
            if bounds.count == 2 {
                high = try value(bounds[1], kind: kind, at: position + bounds[0].count + 1)
                guard low <= high else { throw CronError(kind, position, "range \(quoted(base)) runs backwards (\(low) > \(high))") }
            } else {
                // `n/step` runs from n to the end of the range, as croniter reads it.
                high = parts.count == 2 ? (kind == .dayOfWeek ? 7 : kind.range.upperBound) : low
            }
        }
        var bits: UInt64 = 0
        for value in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(value) }
        return bits
    }

    private static func value(_ text: Substring, kind: Kind, at position: Int) throws(CronError) -> Int {
        if let number = Int(text), text.allSatisfy(\.isASCII) {
            guard kind.range.contains(number) else {
                throw CronError(kind, position, "\(number) is out of range \(kind.range.lowerBound)-\(kind.range.upperBound)")
            }
            return number
        }
        if let named = kind.value(ofName: text) { return named }
        let names = kind.names.isEmpty ? "" : " or a name (\(kind.names.first!)…\(kind.names.last!))"
        throw CronError(kind, position, "\(quoted(text)) is not a number\(names)")
    }

    static func quoted(_ text: Substring) -> String {
        "\"\(text.prefix(20))\(text.count > 20 ? "…" : "")\""
    }
}

/// A malformed cron expression: which field, where (1-based character position in the
/// expression as written) and why. Callers see it as -32602.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String?
    public let position: Int
    public let problem: String

    init(_ kind: CronField.Kind?, _ offset: Int, _ problem: String) {
        field = kind?.name
        position = offset + 1
        self.problem = problem
    }

    public var description: String {
        if let field { return "\(field) field at position \(position): \(problem)" }
        return "at position \(position): \(problem)"
    }
}
