import Foundation
import ModHostSupport
import ModuleContracts

/// The checks and classification of a `health.report` (or `provider.error` event), whose
/// params are ModuleContracts' `ProviderError`, the type every producer of the event uses.
extension ProviderError {
    /// Longest provider key accepted, in UTF-8 bytes.
    public static let maxKeyBytes = 1024

    /// Checks a provider key field: not empty, not too long.
    public static func check(providerKey key: String, field: String = "providerKey") throws(HealthInputError) {
        guard !key.isEmpty else { throw HealthInputError("\(field) must not be empty") }
        guard key.utf8.count <= maxKeyBytes else {
            throw HealthInputError("\(field) is longer than \(maxKeyBytes) bytes")
        }
    }

    /// Checks every field and decides what the report is about; changes nothing.
    ///
    /// - Throws: `HealthInputError` naming the first offending field.
    public func classify(nowMs: Int64, timeZone: TimeZone) throws(HealthInputError) -> ClassifiedReport {
        try Self.check(providerKey: providerKey)
        if let series { try Self.check(providerKey: series, field: "series") }
        if let status, !(100...599).contains(status) {
            throw HealthInputError("status \(status) is outside 100..599")
        }
        var explicit: ErrorClass?
        if let errorClass {
            guard let parsed = ErrorClass(rawValue: errorClass) else {
                throw HealthInputError("errorClass \(LogText.quote(errorClass)) is not one of \(ErrorClass.list)")
            }
            explicit = parsed
        }
        guard status != nil || explicit != nil else {
            throw HealthInputError("status or errorClass is required")
        }
        var report = ClassifiedReport(providerKey: providerKey, series: series, status: status)
        var hints: [Hint] = []
        if let retryAfter {
            switch try Hints.retryAfter(retryAfter, nowMs: nowMs) {
            case .until(let until): hints.append(Hint(source: .retryAfter, untilMs: until))
            case .unreadable(let note): report.notes.append(note)
            }
        }
        var mentionsDailyQuota = false
        let wantsHints = explicit.map { [.rateLimit, .quota, .seriesQuota].contains($0) } ?? (status == 429)
        if wantsHints, let body, !body.isEmpty {
            let reading = Hints.inBody(body, nowMs: nowMs, timeZone: timeZone)
            hints += reading.hints
            report.notes += reading.notes
            mentionsDailyQuota = reading.mentionsDailyQuota
        }
        report.errorClass = explicit ?? Self.classOf(status: status ?? 0, dailyQuota: mentionsDailyQuota)
        for hint in hints where hint.untilMs <= nowMs {
            report.notes.append("ignoring \(hint.source.rawValue): it names a time not in the future")
        }
        report.hint = hints.filter { $0.untilMs > nowMs }.max { $0.untilMs < $1.untilMs }
        return report
    }

    /// 429 → rate_limit (quota when the body speaks of a daily quota), 401/403 → auth,
    /// 408 → network, 5xx → server; anything else is not a health signal.
    static func classOf(status: Int, dailyQuota: Bool) -> ErrorClass? {
        switch status {
        case 429: dailyQuota ? .quota : .rateLimit
        case 401, 403: .auth
        case 408: .network
        case 500...599: .server
        default: nil
        }
    }
}

/// A checked report: its class and the latest usable hint.
public struct ClassifiedReport: Sendable, Equatable {
    public var providerKey: String
    public var series: String?
    public var status: Int?
    /// nil: the status says nothing about the key's health (e.g. 404); nothing changes.
    public var errorClass: ErrorClass?
    /// The latest future deadline among the hints, if any.
    public var hint: Hint?
    /// Hints that were found but not used, for the log.
    public var notes: [String] = []
}
