import Foundation
import ModuleContracts
import ModHostSupport
import ModuleSupport

extension HealthEngine {
    /// `health.report` / `provider.error`: checks the report, then applies its rule.
    ///
    /// - Throws: `HealthInputError` naming the offending field; nothing changes then.
    public mutating func report(_ input: ProviderError, at nowMs: Int64, effects: inout Effects)
        throws(HealthInputError) -> ReportResult
    {
        let report = try input.classify(nowMs: nowMs, timeZone: timeZone)
        effects.notes += report.notes.map { "\(LogText.quote(report.providerKey)): \($0)" }
        let series = report.series ?? series(of: report.providerKey)
        if report.errorClass == .seriesQuota, series == nil {
            throw HealthInputError(
                "series is required for errorClass series_quota: providerKey \(LogText.quote(report.providerKey)) belongs to no series")
        }
        advance(to: nowMs, effects: &effects)
        guard let errorClass = report.errorClass else {
            let view = view(of: report.providerKey)
            return ReportResult(providerKey: report.providerKey, state: view.state, untilMs: view.untilMs, reason: "ignored",
                                detail: "status \(report.status ?? 0) says nothing about the key's health")
        }
        update(report.providerKey, at: nowMs, effects: &effects) { engine, entry, effects in
            if let named = report.series { engine.assign(&entry, to: named) }
            engine.apply(errorClass, report, to: &entry, at: nowMs, effects: &effects)
        }
        let view = view(of: report.providerKey)
        var detail = view.detail
        if errorClass == .seriesQuota, let series, let trip = seriesTrips[series] {
            detail = "series \(series) tripped until \(trip.untilMs)"
        }
        return ReportResult(providerKey: report.providerKey, state: view.state, untilMs: view.untilMs,
                            reason: errorClass.rawValue, detail: detail)
    }

    private mutating func apply(_ errorClass: ErrorClass, _ report: ClassifiedReport, to entry: inout KeyEntry,
                                at nowMs: Int64, effects: inout Effects) {
        entry.backoff.resetIfQuiet(at: nowMs, resetMs: config.backoffResetMs)
        entry.backoff.noteError(at: nowMs)
        entry.consecutiveErrors[errorClass] += 1
        entry.lastError = LastError(status: report.status, errorClass: errorClass, atMs: nowMs)
        if errorClass != .server, errorClass != .network { entry.circuit.releaseProbe() }

        switch errorClass {
        case .rateLimit:
            let until: Int64
            let source: String
            if let hint = report.hint {
                (until, source) = Self.capped(hint, at: nowMs, cap: config.cooldownCapMs)
            } else {
                until = HostTime.deadline(nowMs, plus: entry.backoff.nextDelay(config.backoffMs))
                source = "backoff step \(entry.backoff.step)"
            }
            if until > entry.cooldownUntilMs ?? .min {
                entry.cooldownUntilMs = until
                entry.cooldownSource = source
            }
        case .quota:
            let until: Int64
            let source: String
            if let hint = report.hint {
                (until, source) = Self.capped(hint, at: nowMs, cap: config.quotaCapMs)
            } else {
                until = CivilTime.nextMidnight(after: nowMs, in: timeZone)
                source = "local midnight"
            }
            if until > entry.quotaUntilMs ?? .min {
                entry.quotaUntilMs = until
                entry.quotaSource = source
            }
        case .auth:
            entry.authBlocked = true
        case .server, .network:
            _ = entry.circuit.recordFailure(errorClass, at: nowMs, threshold: config.circuitThreshold,
                                            openMs: config.circuitOpenMs, maxOpenMs: config.circuitMaxOpenMs)
        case .seriesQuota:
            guard let series = entry.series else { return }
            let until = report.hint.map { min($0.untilMs, HostTime.deadline(nowMs, plus: config.quotaCapMs)) }
                ?? HostTime.deadline(nowMs, plus: config.seriesCooldownMs)
            trip(series, until: until, reason: ErrorClass.seriesQuota.rawValue, effects: &effects)
        }
    }

    /// `health.reportSuccess` / `provider.success`: clears the consecutive counts and closes a
    /// halfOpen circuit. A cooldown or quota deadline stays (deadlines only extend), an open
    /// circuit ignores it (the call began before the trip), and an auth block stays until the
    /// token module reports a refresh (a success may be a call that began before the 401).
    public mutating func reportSuccess(_ key: String, at nowMs: Int64, effects: inout Effects)
        throws(HealthInputError) -> SuccessResult
    {
        try recover(key, at: nowMs, effects: &effects) { entry in
            let auth = entry.consecutiveErrors[.auth]
            entry.consecutiveErrors = ErrorCounts()
            entry.consecutiveErrors[.auth] = auth
            _ = entry.circuit.recordSuccess(at: nowMs)
        }
    }

    /// `token.reauth_required`: the key is out until its token is refreshed.
    public mutating func reauthRequired(_ key: String, at nowMs: Int64, effects: inout Effects)
        throws(HealthInputError) -> ReportResult
    {
        try report(ProviderError(providerKey: key, errorClass: ErrorClass.auth.rawValue), at: nowMs, effects: &effects)
    }

    /// `token.refreshed`: lifts an auth block.
    public mutating func tokenRefreshed(_ key: String, at nowMs: Int64, effects: inout Effects)
        throws(HealthInputError) -> SuccessResult
    {
        try recover(key, at: nowMs, effects: &effects) { entry in
            entry.authBlocked = false
            entry.consecutiveErrors[.auth] = 0
        }
    }

    /// Applies `change` to a known key's entry (an unknown key is healthy already) and answers
    /// with the key's state: the common path of success and refresh.
    private mutating func recover(_ key: String, at nowMs: Int64, effects: inout Effects, _ change: (inout KeyEntry) -> Void)
        throws(HealthInputError) -> SuccessResult
    {
        try ProviderError.check(providerKey: key)
        advance(to: nowMs, effects: &effects)
        if entries[key] != nil {
            update(key, at: nowMs, effects: &effects) { _, entry, _ in change(&entry) }
        }
        let view = view(of: key)
        return SuccessResult(providerKey: key, state: view.state, untilMs: view.untilMs)
    }

    /// A hint's deadline, at most `cap` ms from now, and where it came from.
    private static func capped(_ hint: Hint, at nowMs: Int64, cap: Int64) -> (untilMs: Int64, source: String) {
        let until = min(hint.untilMs, HostTime.deadline(nowMs, plus: cap))
        return (until, hint.source.rawValue + (until < hint.untilMs ? " (capped)" : ""))
    }
}
