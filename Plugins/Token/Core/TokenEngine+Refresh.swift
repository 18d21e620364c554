import ModHostJSON
import ModHostSupport
import ModuleContracts
import ModuleSupport

/// A refresh's way through: the lock, the re-read under it, the request, the file written,
/// and its end, each step an operation fed by the plugin's I/O.
extension TokenEngine {
    /// Starts a refresh of `id` (the caller checked that none is in flight): asks for the lock.
    mutating func startFlight(_ id: String, manual: Bool, waiter: Waiter? = nil, at nowMs: Int64, effects: inout Effects) {
        guard var entry = entries[id] else { return }
        let attempt = nextAttempt
        nextAttempt += 1
        var flight = Flight(attempt: attempt, startedAtMs: nowMs, manual: manual)
        flight.startAccessToken = entry.record?.accessToken
        if let waiter { flight.waiters.append(waiter) }
        entry.flight = flight
        entry.stored.history.attempts += 1
        entry.stored.history.lastAttemptAt = nowMs
        entries[id] = entry
        effects.requests.append(.lock(id: id, attempt: attempt))
    }

    /// The flight of `id` if `attempt` is still it (a late result of an abandoned one is not).
    func flight(_ id: String, _ attempt: UInt64) -> Flight? {
        guard let flight = entries[id]?.flight, flight.attempt == attempt else { return nil }
        return flight
    }

    /// The lock is held and the file read again under it (`nil`: it is gone). If another
    /// process refreshed it meanwhile, that is adopted and no request goes out.
    public mutating func lockTaken(_ id: String, attempt: UInt64, file: FileSnapshot?, at nowMs: Int64, effects: inout Effects) {
        defer { touch(id) }
        guard flight(id, attempt) != nil else { return effects.requests.append(.unlock(id: id)) }
        entries[id]?.flight?.locked = true
        guard let file else { return fail(id, .transient(reason: "file_missing", retryAfterMs: nil, detail: "the token file is gone"), at: nowMs, effects: &effects) }
        readFile(id, file, effects: &effects)
        guard let entry = entries[id], let record = entry.record, entry.problem == nil else {
            return fail(id, .transient(reason: "invalid", retryAfterMs: nil, detail: entries[id]?.problem ?? "the token file is not usable"),
                        at: nowMs, effects: &effects)
        }
        // Read under the lock (or by a scan while waiting for it): not the token this flight began
        // with, and fresh: another process refreshed it.
        if record.accessToken != entry.flight?.startAccessToken, !needsRefresh(record, at: nowMs) {
            return succeed(id, result: "adopted", at: nowMs, effects: &effects)
        }
        guard let endpoint = endpoint(for: record), let refreshToken = record.refreshToken, EndpointCheck.problem(endpoint) == nil else {
            return fail(id, .transient(reason: "not_refreshable", retryAfterMs: nil, detail: refreshProblem(entry) ?? "cannot refresh"),
                        at: nowMs, effects: &effects)
        }
        let defaults = record.provider.flatMap { settings.providers[$0] }
        let request = OAuthRequest.refresh(endpoint: endpoint, refreshToken: refreshToken, clientId: record.clientId ?? defaults?.clientId,
                                           clientSecret: record.clientSecret ?? defaults?.clientSecret, scope: record.scope)
        entries[id]?.flight?.sentRefreshToken = refreshToken
        effects.requests.append(.send(id: id, attempt: attempt, request))
    }

    /// Whether `record` is inside the refresh-ahead window (or past its expiry) at `nowMs`.
    func needsRefresh(_ record: TokenRecord, at nowMs: Int64) -> Bool {
        guard let expiresAt = record.expiresAtMs else { return false }
        return nowMs >= expiresAt.subtractingSaturating(settings.refreshAheadMs)
    }

    /// The lock could not be had within the refresh timeout (another process kept it).
    public mutating func lockFailed(_ id: String, attempt: UInt64, detail: String, at nowMs: Int64, effects: inout Effects) {
        defer { touch(id) }
        guard flight(id, attempt) != nil else { return }
        fail(id, .transient(reason: "lock_timeout", retryAfterMs: nil, detail: detail), at: nowMs, effects: &effects)
    }

    /// The token endpoint answered (or did not): `durationMs` is the real time the request took.
    public mutating func httpCompleted(_ id: String, attempt: UInt64, result: HTTPResult, durationMs: Int64, at nowMs: Int64,
                                       effects: inout Effects) {
        defer { touch(id) }
        guard flight(id, attempt) != nil, let record = entries[id]?.record else { return }
        entries[id]?.flight?.durationMs = durationMs
        let outcome = OAuthResponse.outcome(of: result, nowMs: nowMs)
        switch outcome {
        case .success(let access, let refresh, let expiresIn, let type, let scope):
            let fields = RefreshedFields(accessToken: access, refreshToken: refresh, expiresAtMs: expiresIn.map { nowMs.addingSaturating($0) },
                                         tokenType: type, scope: scope)
            let (bytes, rewritten) = TokenFile.rewrite(record, with: fields, fileName: entries[id]!.name.fileName)
            entries[id]?.flight?.written = rewritten
            entries[id]?.flight?.writtenFingerprint = FileSnapshot(fileName: "", content: .bytes(bytes)).fingerprint
            effects.requests.append(.write(id: id, attempt: attempt, bytes: bytes))
        case .oauthError(let error, let description, _) where error == "invalid_grant":
            _ = description
            effects.requests.append(.reread(id: id, attempt: attempt))
        default:
            fail(id, outcome, at: nowMs, effects: &effects)
        }
    }

    /// The file was read again after `invalid_grant`: a refresh token other than the one sent
    /// means a sibling rotated it (adopted, no failure); the same one means the grant is gone.
    public mutating func reread(_ id: String, attempt: UInt64, file: FileSnapshot?, at nowMs: Int64, effects: inout Effects) {
        defer { touch(id) }
        guard let flight = flight(id, attempt) else { return }
        if let file { _ = readFile(id, file, effects: &effects) }
        if let current = entries[id]?.record?.refreshToken, entries[id]?.problem == nil, current != flight.sentRefreshToken {
            return succeed(id, result: "adopted", at: nowMs, effects: &effects)
        }
        fail(id, .oauthError(error: "invalid_grant", description: nil, status: 400), at: nowMs, effects: &effects)
    }

    /// The refreshed file is on disk (`error` nil) or could not be written (the new token is
    /// kept in memory, and the failure logged: the next refresh writes it again).
    public mutating func written(_ id: String, attempt: UInt64, error: String?, at nowMs: Int64, effects: inout Effects) {
        defer { touch(id) }
        guard let flight = flight(id, attempt), let record = flight.written else { return }
        entries[id]?.record = record
        entries[id]?.problem = nil
        if let error {
            effects.list.log(.error, "token \(LogText.quote(id)): the refreshed token is kept in memory only: \(error)")
        } else {
            entries[id]?.stored.fileFingerprint = flight.writtenFingerprint
        }
        succeed(id, result: "refreshed", at: nowMs, effects: &effects)
    }

    // MARK: The end of a flight

    /// Ends the flight of `id` with the token in memory: answers its waiters, publishes
    /// `token.refreshed`, releases the lock.
    mutating func succeed(_ id: String, result: String, at nowMs: Int64, effects: inout Effects) {
        guard var entry = entries[id], let flight = entry.flight else { return }
        entry.flight = nil
        entry.stored.history.successes += 1
        entry.stored.history.failureStreak = 0
        entry.stored.history.lastResult = result
        entry.stored.history.lastDurationMs = flight.durationMs
        entry.stored.backoffUntilMs = nil
        entries[id] = entry
        persist(id, effects: &effects)
        effects.list.publish(Topic.tokenRefreshed, event(entry))
        effects.list.log(.info, "token \(LogText.quote(id)) \(result == "adopted" ? "adopted the refresh of another process" : "refreshed")"
            + (entry.record?.expiresAtMs.map { ", expires at \($0)" } ?? ", expiry unknown"))
        if flight.locked { effects.requests.append(.unlock(id: id)) }
        for waiter in flight.waiters {
            switch waiter {
            case .access(let call): answerAccess(call, entry, at: nowMs, effects: &effects)
            case .refresh(let call): effects.list.reply(call, view(entry, at: nowMs))
            case .batch(let number): batchDone(number, id, ok: true, effects: &effects)
            }
        }
    }

    /// Ends the flight of `id` with a failure: backoff, or suspension for a refused grant or
    /// client, or after three automatic failures in a row.
    mutating func fail(_ id: String, _ outcome: RefreshOutcome, at nowMs: Int64, effects: inout Effects) {
        guard var entry = entries[id], let flight = entry.flight else { return }
        let (reason, detail, retryAfter, fatal): (String, String, Int64?, Bool) = switch outcome {
        case .oauthError(let error, let description, let status):
            (error, "the token endpoint answered HTTP \(status) \(error)" + (description.map { ": \(LogText.quote($0, limit: 80))" } ?? ""), nil,
             ["invalid_grant", "invalid_client", "unauthorized_client"].contains(error))
        case .transient(let reason, let retryAfter, let detail): (reason, detail, retryAfter, false)
        case .success: ("invalid_response", "", nil, false)
        }
        entry.flight = nil
        entry.stored.history.failures += 1
        entry.stored.history.failureStreak += 1
        entry.stored.history.lastResult = "failed"
        entry.stored.history.lastError = reason
        entry.stored.history.lastDurationMs = flight.durationMs
        let streak = entry.stored.history.failureStreak
        let suspend = fatal || (!flight.manual && streak >= 3)
        if suspend {
            let why = fatal ? "\(reason): \(detail); log in again (a rewritten token file resumes it) or token.resume"
                : "\(streak) refreshes failed in a row, the last with \(reason): \(detail); token.resume retries"
            entry.stored.suspended = Suspension(reason: why, error: reason)
            entry.stored.backoffUntilMs = nil
        } else {
            entry.stored.backoffUntilMs = nowMs.addingSaturating(Backoff.delayMs(streak: streak, retryAfterMs: retryAfter))
        }
        entries[id] = entry
        persist(id, effects: &effects)
        effects.list.log(.warning, "token \(LogText.quote(id)): refresh failed with \(reason): \(detail)"
            + (suspend ? "; suspended" : "; next try at \(entry.stored.backoffUntilMs ?? 0)"))
        effects.list.publish(Topic.tokenRefreshFailed, event(entry, error: reason))
        if suspend {
            effects.list.publish(Topic.tokenSuspended, event(entry, error: reason))
            effects.list.publish(Topic.tokenReauthRequired, event(entry, error: reason))
        }
        if flight.locked { effects.requests.append(.unlock(id: id)) }
        var fields: [String: JSONValue] = [:]
        if let backoff = entry.stored.backoffUntilMs { fields["retryAfterMs"] = .int(max(0, backoff - nowMs)) }
        for waiter in flight.waiters {
            switch waiter {
            case .access(let call): answerAccess(call, entry, at: nowMs, effects: &effects)
            case .refresh(let call):
                effects.list.fail(call, .reason(reason, "refresh of token \(id) failed: \(detail)", fields))
            case .batch(let number): batchDone(number, id, ok: false, effects: &effects)
            }
        }
    }

    mutating func batchDone(_ number: UInt64, _ id: String, ok: Bool, effects: inout Effects) {
        guard var batch = batches[number] else { return }
        batch.remaining.remove(id)
        if ok { batch.refreshed.append(id) } else { batch.failed.append(id) }
        if batch.remaining.isEmpty {
            batches[number] = nil
            effects.list.reply(batch.call, DueAnswer(refreshed: batch.refreshed.sorted(), failed: batch.failed.sorted()))
        } else {
            batches[number] = batch
        }
    }
}
