import ModuleSupport

/// A parsed cron expression (MODULES.md, task): six fields `sec min hour dom mon dow`, or five
/// with seconds 0, or a macro. It finds the next matching wall-clock time field by field (a
/// month, a day, an hour, a minute, a second at a time), never minute by minute; the time
/// zone and its DST rule are `next(after:in:)` (CronSchedule+Zone.swift).
public struct CronSchedule: Sendable, Equatable {
    public let second, minute, hour, dayOfMonth, month, dayOfWeek: CronField
    /// The expression as written, for listings.
    public let text: String

    /// The macros MODULES.md names, as six-field expressions.
    static let macros: [String: String] = [
        "@yearly": "0 0 0 1 1 *", "@annually": "0 0 0 1 1 *", "@monthly": "0 0 0 1 * *",
        "@weekly": "0 0 0 * * 0", "@daily": "0 0 0 * * *", "@midnight": "0 0 0 * * *", "@hourly": "0 0 * * * *",
    ]

    /// A job that runs in every hour (hour field `*`, `*/n` or all of 0-23) fires in each real
    /// hour of a repeated one; any other fires in its first occurrence only.
    public var everyHour: Bool { hour.starred || hour.isFull }

    /// Day-of-month and day-of-week both restricted: a day matching either fires (Vixie cron,
    /// croniter's default); otherwise a day must match both (the full one always matches).
    var dayOr: Bool { !dayOfMonth.isFull && !dayOfWeek.isFull }

    public init(_ text: String) throws(CronError) {
        let trimmed = text.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        let lead = text.count - trimmed.count
        if trimmed.hasPrefix("@") {
            let word = trimmed.prefix(while: { $0 != " " && $0 != "\t" })
            guard trimmed.dropFirst(word.count).allSatisfy({ $0 == " " || $0 == "\t" }) else {
                throw CronError(nil, lead + word.count, "nothing may follow the macro \(word)")
            }
            guard let expanded = Self.macros[word.lowercased()] else {
                throw CronError(nil, lead, "unknown macro \(CronField.quoted(word)) (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")
            }
            try self.init(fields: Self.split(expanded[...]), text: text)
            return
        }
        var fields = Self.split(text[...])
        guard fields.count == 5 || fields.count == 6 else {
            throw CronError(nil, fields.count > 6 ? fields[6].offset : text.count,
                            "expected 5 or 6 fields (sec min hour dom mon dow), found \(fields.count)")
        }
        if fields.count == 5 { fields.insert(("0", -1), at: 0) }
        try self.init(fields: fields, text: text)
    }

    private init(fields: [(text: Substring, offset: Int)], text: String) throws(CronError) {
        var parsed: [CronField] = []
        for (kind, field) in zip(CronField.Kind.allCases, fields) {
            // A field the five-field form leaves out has no position in the text.
            parsed.append(try CronField(field.text, kind: kind, offset: max(field.offset, 0)))
        }
        (second, minute, hour, dayOfMonth, month, dayOfWeek) = (parsed[0], parsed[1], parsed[2], parsed[3], parsed[4], parsed[5])
        self.text = text
        guard dayOr || (1...12).contains(where: { m in month.contains(m) && dayOfMonth.next(atOrAfter: 1).map { $0 <= CivilTime.daysIn(month: m, year: 2000) } == true })
        else {
            throw CronError(.dayOfMonth, max(fields[3].offset, 0), "no month of the month field has any of these days: the schedule never fires")
        }
    }

    /// Whitespace-separated words with their 0-based character offsets.
    static func split(_ text: Substring) -> [(text: Substring, offset: Int)] {
        var words: [(Substring, Int)] = []
        var offset = 0
        var start: (String.Index, Int)?
        for index in text.indices {
            let blank = text[index] == " " || text[index] == "\t"
            if blank, let begun = start {
                words.append((text[begun.0..<index], begun.1))
                start = nil
            } else if !blank, start == nil {
                start = (index, offset)
            }
            offset += 1
        }
        if let begun = start { words.append((text[begun.0...], begun.1)) }
        return words
    }

    func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let weekday = Int(((CivilTime.days(year: year, month: month, day: day) + 4) % 7 + 7) % 7)  // 1970-01-01 was a Thursday
        let dom = dayOfMonth.contains(day), dow = dayOfWeek.contains(weekday)
        return dayOr ? dom || dow : dom && dow
    }

    /// The first wall-clock time strictly after `civil` (seconds since 1970 read as a UTC date
    /// and time) that matches, or nil when none comes within 400 years.
    public func nextCivil(after civil: Int64) -> Int64? {
        let start = civil + 1
        let days = CivilTime.floorDiv(start, 86_400)
        var (y, mo, d) = Self.date(fromDays: days)
        let secondOfDay = Int(start - days * 86_400)
        var (h, mi, s) = (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        let lastYear = y + 400
        while y <= lastYear {
            guard month.contains(mo) else {
                if let next = month.next(atOrAfter: mo + 1) { mo = next } else { y += 1; mo = month.next(atOrAfter: 1)! }
                (d, h, mi, s) = (1, 0, 0, 0)
                continue
            }
            guard d <= CivilTime.daysIn(month: mo, year: y) else { (mo, d, h, mi, s) = (mo + 1, 1, 0, 0, 0); continue }
            guard dayMatches(year: y, month: mo, day: d) else { (d, h, mi, s) = (d + 1, 0, 0, 0); continue }
            guard let nextHour = hour.next(atOrAfter: h) else { (d, h, mi, s) = (d + 1, 0, 0, 0); continue }
            if nextHour != h { (h, mi, s) = (nextHour, 0, 0) }
            guard let nextMinute = minute.next(atOrAfter: mi) else { (h, mi, s) = (h + 1, 0, 0); continue }
            if nextMinute != mi { (mi, s) = (nextMinute, 0) }
            guard let nextSecond = second.next(atOrAfter: s) else { (mi, s) = (mi + 1, 0); continue }
            return CivilTime.days(year: y, month: mo, day: d) * 86_400 + Int64(h * 3600 + mi * 60 + nextSecond)
        }
        return nil
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's civil_from_days).
    static func date(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0), month, day)
    }
}
