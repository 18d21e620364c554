/// HTTP-date (RFC 9110 §5.6.7), which a recipient must accept in all three forms:
///
///     Sun, 06 Nov 1994 08:49:37 GMT    IMF-fixdate (preferred)
///     Sunday, 06-Nov-94 08:49:37 GMT   obsolete RFC 850 form
///     Sun Nov  6 08:49:37 1994         obsolete asctime() form
public enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let shortDays: Set<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longDays: Set<String> = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// Epoch milliseconds of an HTTP-date, or nil if `text` is not one.
    ///
    /// - Parameter nowMs: for the RFC 850 form's two-digit year: one that would be more than
    ///   50 years in the future means the most recent past year with those digits.
    public static func epochMs(_ text: String, nowMs: Int64) -> Int64? {
        let tokens = text.trimmingASCIISpaces.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch tokens.count {
        case 6: return imfFixdate(tokens)
        case 4: return rfc850(tokens, nowMs: nowMs)
        case 5: return asctime(tokens)
        default: return nil
        }
    }

    /// `Sun,` `06` `Nov` `1994` `08:49:37` `GMT`
    private static func imfFixdate(_ tokens: [String]) -> Int64? {
        guard tokens[0].hasSuffix(","), shortDays.contains(tokens[0].dropLast().lowercased()), tokens[5] == "GMT",
            tokens[1].count == 2, tokens[3].count == 4,
            let day = Int(tokens[1]), let month = month(tokens[2]), let year = Int(tokens[3]),
            let time = time(tokens[4])
        else { return nil }
        return CivilTime.utcMs(year: year, month: month, day: day, hour: time.0, minute: time.1, second: time.2)
    }

    /// `Sunday,` `06-Nov-94` `08:49:37` `GMT`
    private static func rfc850(_ tokens: [String], nowMs: Int64) -> Int64? {
        let date = tokens[1].split(separator: "-", omittingEmptySubsequences: false)
        guard tokens[0].hasSuffix(","), longDays.contains(tokens[0].dropLast().lowercased()), tokens[3] == "GMT",
            date.count == 3, date[0].count == 2, date[2].count == 2,
            let day = Int(date[0]), let month = month(String(date[1])), let twoDigits = Int(date[2]),
            let time = time(tokens[2])
        else { return nil }
        let currentYear = Int(CivilTime.floorDiv(nowMs, 31_556_952_000)) + 1970  // mean Gregorian year
        var year = currentYear - currentYear % 100 + twoDigits
        if year > currentYear + 50 { year -= 100 }
        return CivilTime.utcMs(year: year, month: month, day: day, hour: time.0, minute: time.1, second: time.2)
    }

    /// `Sun` `Nov` `6` `08:49:37` `1994`
    private static func asctime(_ tokens: [String]) -> Int64? {
        guard shortDays.contains(tokens[0].lowercased()), (1...2).contains(tokens[2].count), tokens[4].count == 4,
            let month = month(tokens[1]), let day = Int(tokens[2]), let year = Int(tokens[4]), let time = time(tokens[3])
        else { return nil }
        return CivilTime.utcMs(year: year, month: month, day: day, hour: time.0, minute: time.1, second: time.2)
    }

    private static func month(_ name: String) -> Int? {
        guard name.count == 3, let index = months.firstIndex(of: name.lowercased()) else { return nil }
        return index + 1
    }

    /// `08:49:37`
    private static func time(_ text: String) -> (Int, Int, Int)? {
        var scan = TextScan(text)
        guard let hour = scan.digits(2), scan.take(0x3A), let minute = scan.digits(2), scan.take(0x3A),
            let second = scan.digits(2), scan.atEnd
        else { return nil }
        return (hour, minute, second)
    }
}
