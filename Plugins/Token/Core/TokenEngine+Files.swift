import ModHostSupport
import ModuleContracts
import ModuleSupport

/// The auth directory as the plugin reads it: new, changed and removed token files.
extension TokenEngine {
    /// Every token file of the directory (a full listing; `complete` false for a directory that
    /// could not be read, which changes nothing). Schedules the next poll.
    public mutating func scanned(_ files: [FileSnapshot], complete: Bool = true, at nowMs: Int64, effects: inout Effects) {
        nextScanMs = nowMs.addingSaturating(settings.pollMs)
        guard complete else { return }
        defer { touchAll() }
        var seen = Set<String>()
        for file in files {
            guard let name = TokenName(fileName: file.fileName) else { continue }
            seen.insert(name.id)
            if entries[name.id] == nil {
                entries[name.id] = TokenEntry(name: name, record: nil, problem: nil, stored: stored.removeValue(forKey: name.id) ?? StoredToken(),
                                              jitterMs: Jitter.ms(for: name.id, windowMs: settings.refreshAheadMs))
                let before = entries[name.id]!.stored.fileFingerprint
                _ = readFile(name.id, file, effects: &effects)
                // A file rewritten while the host was down (a re-login) lifts a suspension too.
                if before != nil, before != entries[name.id]?.stored.fileFingerprint {
                    fileChanged(name.id, at: nowMs, effects: &effects)
                } else if before == nil {
                    persist(name.id, effects: &effects)
                }
            } else if entries[name.id]?.stored.fileFingerprint != file.fingerprint {
                _ = readFile(name.id, file, effects: &effects)
                fileChanged(name.id, at: nowMs, effects: &effects)
            }
        }
        for id in entries.keys.sorted() where !seen.contains(id) { removed(id, effects: &effects) }
        if !scannedOnce {
            scannedOnce = true
            for id in stored.keys.sorted() { effects.list.delete("token/\(id)") }
            stored = [:]
        }
    }

    /// Reads `file` into the entry of `id`; returns whether its content differs from the last read.
    @discardableResult
    mutating func readFile(_ id: String, _ file: FileSnapshot, effects: inout Effects) -> Bool {
        guard var entry = entries[id] else { return false }
        let fingerprint = file.fingerprint
        let changed = entry.stored.fileFingerprint != fingerprint || entry.record == nil && entry.problem == nil
        entry.stored.fileFingerprint = fingerprint
        switch file.content {
        case .refused(let reason):
            entry.record = nil
            entry.problem = reason
        case .bytes(let bytes):
            do {
                let record = try TokenFile.parse(bytes, fileName: file.fileName)
                entry.record = record
                entry.problem = Self.usability(record)
            } catch {
                entry.record = nil
                entry.problem = error.description
            }
        }
        let url: String? = entry.record.flatMap { self.endpoint(for: $0) }
        entry.hasEndpoint = url != nil
        entry.endpointProblem = url.flatMap { EndpointCheck.problem($0) }
        if let problem = entry.problem, changed {
            effects.list.log(.warning, "token \(LogText.quote(id)) is invalid: \(problem)")
        }
        entries[id] = entry
        return changed
    }

    /// Why a parsed record is not a usable token (`invalid`), or nil.
    static func usability(_ record: TokenRecord) -> String? {
        guard record.accessToken != nil || record.apiKey != nil else {
            return "the token file has neither access_token nor api_key (nor their camelCase spellings)"
        }
        if let endpoint = record.tokenEndpoint, let problem = EndpointCheck.problem(endpoint) { return problem }
        return nil
    }

    /// The file of `id` changed on disk (a re-login by another tool, an edit): the streak and
    /// backoff start again, and a suspension lifts (`token.resumed`, and `token.refreshed`
    /// when the new token is usable, so health serves its keys again).
    mutating func fileChanged(_ id: String, at nowMs: Int64, effects: inout Effects) {
        guard var entry = entries[id] else { return }
        let wasSuspended = entry.stored.suspended != nil
        entry.stored.history.failureStreak = 0
        entry.stored.backoffUntilMs = nil
        entry.stored.suspended = nil
        entries[id] = entry
        persist(id, effects: &effects)
        effects.list.log(.info, "token \(LogText.quote(id)): the file changed on disk" + (wasSuspended ? "; the suspension is lifted" : ""))
        guard wasSuspended else { return }
        effects.list.publish(Topic.tokenResumed, event(entry))
        if let expiresAt = entry.record?.expiresAtMs, expiresAt <= nowMs { return }
        if entry.problem == nil, entry.record != nil { effects.list.publish(Topic.tokenRefreshed, event(entry)) }
    }

    /// The file of `id` is gone: the token is forgotten, its waiters fail.
    mutating func removed(_ id: String, effects: inout Effects) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        effects.list.delete("token/\(id)")
        effects.list.log(.info, "token \(LogText.quote(id)): the file was removed")
        guard let flight = entry.flight else { return }
        if flight.locked { effects.requests.append(.unlock(id: id)) }
        for waiter in flight.waiters {
            switch waiter {
            case .access(let call), .refresh(let call):
                effects.list.fail(call, .reason("token_not_found", "token \(id) was removed while it was being refreshed"))
            case .batch(let number): batchDone(number, id, ok: false, effects: &effects)
            }
        }
    }
}
