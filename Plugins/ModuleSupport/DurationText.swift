/// Durations as rate-limit messages write them: `30s`, `1.5s` (a protobuf Duration in JSON),
/// `3h22m41s`, `500ms`, `1m`, `5 minutes`. A bare number is seconds.
public enum DurationText {
    /// Milliseconds per unit, by the unit's spellings.
    private static let units: [String: Int64] = [
        "ms": 1, "msec": 1, "millisecond": 1, "milliseconds": 1,
        "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
        "m": 60_000, "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
        "h": 3_600_000, "hr": 3_600_000, "hrs": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
        "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
    ]

    /// Parses a whole string as a duration; nil if it is not one.
    public static func milliseconds(_ text: String) -> Int64? {
        var scan = TextScan(text.trimmingASCIISpaces)
        guard let value = read(&scan), scan.atEnd else { return nil }
        return value
    }

    /// The most parts one duration may have ("1d2h3m4s5ms" has five); more is not a duration.
    static let maximumParts = 8

    /// Reads a duration at the scanner's position, leaving it after the duration; nil (and
    /// the position unchanged) when there is none, or when it overflows 64-bit milliseconds.
    public static func read(_ scan: inout TextScan) -> Int64? {
        let start = scan.position
        var total: Int64 = 0
        var components = 0
        while true {
            let componentStart = scan.position
            guard let thousandths = scan.decimalThousandths() else { break }
            let beforeUnit = scan.position
            scan.skipSpaces()
            let word = scan.word()
            let factor: Int64
            if word.isEmpty {
                scan.position = beforeUnit
                guard components == 0 else { scan.position = componentStart; break }
                factor = 1000  // a bare number: seconds
            } else if let unit = units[word] {
                factor = unit
            } else {
                scan.position = start
                return nil  // "3 requests": not a duration
            }
            let (product, overflow) = thousandths.multipliedReportingOverflow(by: factor)
            guard !overflow, components < maximumParts else { scan.position = start; return nil }
            let (sum, sumOverflow) = total.addingReportingOverflow(product / 1000 + (product % 1000 == 0 ? 0 : 1))
            guard !sumOverflow else { scan.position = start; return nil }
            total = sum
            components += 1
            if word.isEmpty { break }
            // "3h22m41s" or "3h 22m 41s": go on while a number follows.
            let afterUnit = scan.position
            if scan.take(0x20), scan.peek?.isDigit == true { continue }
            scan.position = afterUnit
            guard scan.peek?.isDigit == true else { break }
        }
        guard components > 0 else { scan.position = start; return nil }
        return total
    }
}

extension StringProtocol {
    /// Without leading and trailing ASCII white space.
    public var trimmingASCIISpaces: Substring {
        let text = Substring(self)
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
