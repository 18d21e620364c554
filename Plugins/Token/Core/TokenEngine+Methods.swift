import ModHostJSON
import ModHostSupport
import ModuleContracts
import ModuleSupport

/// The methods: `token.list`, `token.status`, `token.access`, `token.refresh`,
/// `token.refreshDue`, `token.suspend`, `token.resume`.
extension TokenEngine {
    public func list(at nowMs: Int64) -> TokenList {
        TokenList(tokens: entries.keys.sorted().compactMap { entries[$0].map { view($0, at: nowMs) } })
    }

    public func status(_ id: String, at nowMs: Int64) throws(ModuleFailure) -> TokenStatus {
        view(try entry(id), at: nowMs)
    }

    func entry(_ id: String) throws(ModuleFailure) -> TokenEntry {
        guard !id.isEmpty else { throw .invalidInput("id must not be empty") }
        guard let entry = entries[id] else {
            throw .reason("token_not_found", "no token \(LogText.quote(id)) in the auth directory (token.list lists them)")
        }
        return entry
    }

    func view(_ entry: TokenEntry, at nowMs: Int64) -> TokenStatus {
        let status = status(of: entry, at: nowMs)
        let problem = refreshProblem(entry)
        let reason: String? = switch status {
        case "invalid": entry.problem ?? "the token file is not usable"
        case "suspended": entry.stored.suspended?.reason
        case "expiring", "expired": problem
        default: nil
        }
        let expiresAt = entry.record?.expiresAtMs
        return TokenStatus(
            id: entry.name.id, provider: entry.record?.provider ?? entry.name.provider, alias: entry.record?.alias ?? entry.name.alias,
            seq: entry.record?.seq ?? entry.name.seq, providerKeys: entry.providerKeys, status: status, reason: reason,
            expiresAt: expiresAt, msLeft: expiresAt.map { $0.subtractingSaturating(nowMs) }, nextRefreshAt: entry.flight == nil ? nextRefreshAt(entry) : nil,
            history: entry.stored.history, file: entry.name.fileName, noRefresh: entry.record?.noRefresh ?? false,
            refreshable: problem == nil,
            accessTokenHint: Redact.hint(entry.record?.accessToken ?? entry.record?.apiKey))
    }

    /// `token.access {id}`: the token now, or, within `skewMs` of its expiry, once the refresh
    /// it joins or starts has ended (`call` is held until then).
    public mutating func access(_ id: String, call: PendingCallID, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) {
        defer { touch(id) }
        var entry = try entry(id)
        let status = status(of: entry, at: nowMs)
        if status == "invalid" || status == "suspended" {
            throw .reason(status, "token \(id) is \(status): \(view(entry, at: nowMs).reason ?? "")")
        }
        if entry.flight != nil {
            entry.flight?.waiters.append(.access(call))
            entries[id] = entry
            return
        }
        guard let expiresAt = entry.record?.expiresAtMs, nowMs >= expiresAt.subtractingSaturating(settings.skewMs) else {
            return answerAccess(call, entry, at: nowMs, effects: &effects)
        }
        let inBackoff = entry.stored.backoffUntilMs.map { $0 > nowMs } ?? false
        guard refreshProblem(entry) == nil, !inBackoff else { return answerAccess(call, entry, at: nowMs, effects: &effects) }
        startFlight(id, manual: false, waiter: .access(call), at: nowMs, effects: &effects)
    }

    /// Answers a `token.access` call with the token in memory, or refuses it: suspended,
    /// invalid, or expired (`data.reason` the status).
    func answerAccess(_ call: PendingCallID, _ entry: TokenEntry, at nowMs: Int64, effects: inout Effects) {
        let status = status(of: entry, at: nowMs)
        guard let record = entry.record, status != "invalid", status != "suspended", status != "expired" else {
            var fields: [String: JSONValue] = [:]
            if status == "expired", let backoff = entry.stored.backoffUntilMs, backoff > nowMs { fields["retryAfterMs"] = .int(backoff - nowMs) }
            let why = view(entry, at: nowMs).reason ?? (status == "expired" ? "its refresh failed (token.status says why)" : "")
            return effects.list.fail(call, .reason(status, "token \(entry.name.id) is \(status): \(why)", fields))
        }
        let type = record.tokenType ?? (record.accessToken == nil ? "api_key" : "Bearer")
        effects.list.reply(call, AccessAnswer(accessToken: record.accessToken ?? record.apiKey ?? "", tokenType: type, expiresAt: record.expiresAtMs))
    }

    /// `token.refresh {id}`: refreshes now (the backoff ignored), or joins the refresh in
    /// flight; answered with the status once the new token is on disk, or with the failure
    /// (`data.reason` the OAuth `error`, or `timeout`, `http_503`, …).
    public mutating func refresh(_ id: String, call: PendingCallID, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) {
        defer { touch(id) }
        let entry = try entry(id)
        if entry.flight != nil {
            entries[id]?.flight?.waiters.append(.refresh(call))
            return
        }
        if let problem = refreshProblem(entry) {
            let reason = entry.problem != nil ? "invalid" : entry.stored.suspended != nil ? "suspended" : "not_refreshable"
            throw .reason(reason, "token \(id) cannot be refreshed: \(problem)")
        }
        startFlight(id, manual: true, waiter: .refresh(call), at: nowMs, effects: &effects)
    }

    /// `token.refreshDue`: refreshes every token whose `nextRefreshAt` (jitter included) has
    /// come; answered `{refreshed, failed}` when all have ended (at once when none is due).
    public mutating func refreshDue(call: PendingCallID, at nowMs: Int64, effects: inout Effects) {
        defer { touchAll() }
        let due = entries.keys.sorted().filter { id in
            guard let entry = entries[id], let at = nextRefreshAt(entry) else { return false }
            return at <= nowMs
        }
        guard !due.isEmpty else { return effects.list.reply(call, DueAnswer(refreshed: [], failed: [])) }
        let number = nextBatch
        nextBatch += 1
        batches[number] = Batch(call: call, remaining: Set(due))
        for id in due {
            if entries[id]?.flight != nil {
                entries[id]?.flight?.waiters.append(.batch(number))
            } else {
                startFlight(id, manual: false, waiter: .batch(number), at: nowMs, effects: &effects)
            }
        }
    }

    /// `token.suspend {id}`: no refresh and no `token.access` until `token.resume` or a
    /// rewritten file.
    public mutating func suspend(_ id: String, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> TokenStatus {
        defer { touch(id) }
        var entry = try entry(id)
        if entry.stored.suspended == nil {
            entry.stored.suspended = Suspension(reason: "suspended by token.suspend; token.resume lifts it", error: "manual")
            entries[id] = entry
            persist(id, effects: &effects)
            effects.list.publish(Topic.tokenSuspended, event(entry, error: "manual"))
        }
        return view(entry, at: nowMs)
    }

    /// `token.resume {id}`: lifts a suspension; the failure streak and backoff start again.
    public mutating func resume(_ id: String, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> TokenStatus {
        defer { touch(id) }
        var entry = try entry(id)
        if entry.stored.suspended != nil {
            entry.stored.suspended = nil
            entry.stored.history.failureStreak = 0
            entry.stored.backoffUntilMs = nil
            entries[id] = entry
            persist(id, effects: &effects)
            effects.list.publish(Topic.tokenResumed, event(entry))
        }
        return view(entry, at: nowMs)
    }
}
