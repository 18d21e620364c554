import ModuleSupport

/// Session state: reading, changing (stored and announced on every change), expiry and the cap.
extension RoutingEngine {
    public static let stateChanged = "routing.state_changed"
    public static let stickyCleared = "routing.sticky_cleared"

    /// `routing.get`: the session's state (empty when it has none).
    public mutating func get(_ id: String, at nowMs: Int64) throws(ModuleFailure) -> SessionView {
        try SessionID.check(id)
        return SessionView(id, sessions[id]?.state ?? SessionState())
    }

    /// `routing.listSessions`: every session holding state, by id.
    public func listSessions() -> SessionList {
        SessionList(sessions: sessions.keys.sorted().map { SessionView($0, sessions[$0]!.state) })
    }

    /// `routing.set`: the fields given replace the session's.
    public mutating func set(_ update: SessionUpdate, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> SessionView {
        try SessionID.check(update.sessionId)
        var state = sessions[update.sessionId]?.state ?? SessionState()
        if let forced = update.forcedTarget { state.forcedTarget = forced.isEmpty ? nil : try Self.checkPath(forced, field: "forcedTarget", resolver) }
        if let sticky = update.stickyTarget { state.stickyTarget = sticky.isEmpty ? nil : try Self.checkPath(sticky, field: "stickyTarget", resolver) }
        if let list = update.allowedProviders { state.allowedProviders = try Self.checkNames(list, field: "allowedProviders") }
        if let list = update.disabledProviders { state.disabledProviders = try Self.checkNames(list, field: "disabledProviders") }
        if let list = update.disabledKeys { state.disabledKeys = try Self.checkPairs(list, field: "disabledKeys", what: "provider.key") }
        if let list = update.disabledModels { state.disabledModels = try Self.checkPairs(list, field: "disabledModels", what: "provider.model") }
        if let stop = update.stopMessage {
            guard !stop.text.isEmpty, stop.text.utf8.count <= InstructionParser.maxStopText else {
                throw .invalidInput("stopMessage.text must be 1 to \(InstructionParser.maxStopText) bytes")
            }
            let max = stop.max ?? 1
            guard (1...InstructionParser.maxStopRepeats).contains(max) else { throw .invalidInput("stopMessage.max must be 1 to \(InstructionParser.maxStopRepeats), found \(max)") }
            state.stopMessage = StopMessage(text: stop.text, max: max)
        }
        change(update.sessionId, to: state, at: nowMs, effects: &effects)
        return SessionView(update.sessionId, sessions[update.sessionId]?.state ?? SessionState())
    }

    /// `routing.clear`: forgets the session. Returns whether it held state.
    public mutating func clear(_ id: String, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> ClearResult {
        try SessionID.check(id)
        let had = sessions[id] != nil
        change(id, to: SessionState(), at: nowMs, effects: &effects)
        return ClearResult(sessionId: id, cleared: had)
    }

    /// `routing.takeStopMessage`: one use of the session's stopMessage (its own, else the
    /// server-wide one), or nil when there is none or it is used up (then it is dropped).
    public mutating func takeStopMessage(_ id: String, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> StopMessage? {
        try SessionID.check(id)
        let owner = sessions[id]?.state.stopMessage != nil ? id : SessionID.serverWide
        guard var state = sessions[owner]?.state, var stop = state.stopMessage else { return nil }
        stop.used += 1
        state.stopMessage = stop.used >= stop.max ? nil : stop
        change(owner, to: state, at: nowMs, effects: &effects)
        return stop
    }

    /// `routing.applyInstructions`: the text's markers applied left to right.
    public mutating func applyInstructions(_ id: String, text: String, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> Applied {
        try SessionID.check(id)
        guard text.utf8.count <= 1 << 20 else { throw .invalidInput("text is over 1 MiB") }
        let (stripped, markers) = InstructionParser.parse(text)
        var state = sessions[id]?.state ?? SessionState()
        var applied: [String] = []
        var ignored: [IgnoredMarker] = []
        let clears = markers.contains { $0.outcome == .success(.clear) }
        for marker in markers {
            switch marker.outcome {
            case .failure(let error):
                ignored.append(IgnoredMarker(marker: marker.marker, reason: error.reason))
            case .success(let instruction):
                if clears && instruction != .clear {
                    ignored.append(IgnoredMarker(marker: marker.marker, reason: "<**clear**> in the same text: its other markers are ignored"))
                    continue
                }
                var next = state
                do throws(MarkerError) {
                    try next.apply(instruction, resolver: resolver)
                    state = next
                    applied.append(marker.marker)
                } catch {
                    ignored.append(IgnoredMarker(marker: marker.marker, reason: error.reason))
                }
            }
        }
        change(id, to: state, at: nowMs, effects: &effects)
        return Applied(text: stripped, state: SessionView(id, sessions[id]?.state ?? SessionState()), applied: applied, ignored: ignored)
    }

    // MARK: - Changes

    /// Replaces a session's state: stored (or deleted when empty) and announced, when it differs.
    mutating func change(_ id: String, to state: SessionState, at nowMs: Int64, effects: inout Effects) {
        let old = sessions[id]?.state ?? SessionState()
        sessions[id]?.lastUsedMs = nowMs
        guard !old.sameContent(as: state) else { return }
        var state = state
        state.updatedAtMs = nowMs
        if state.isEmpty {
            sessions[id] = nil
            effects.delete(Self.sessionKey(id))
        } else {
            if sessions[id] == nil { makeRoom(at: nowMs, effects: &effects) }
            sessions[id] = Entry(state: state, lastUsedMs: nowMs)
            effects.put(Self.sessionKey(id), encoding: state)
            if sweepAtMs == nil { sweepAtMs = nowMs.addingReportingOverflow(limits.sessionIdleMs).partialValue }
        }
        effects.publish(Self.stateChanged, SessionView(id, state))
    }

    /// At the cap, drops the idlest sessions (a hundredth of the cap at once, so a full table
    /// is not scanned at every new session); the server-wide one stays.
    mutating func makeRoom(at nowMs: Int64, effects: inout Effects) {
        let ordinary = sessions.count - (sessions[SessionID.serverWide] == nil ? 0 : 1)
        guard ordinary >= limits.maxSessions else { return }
        let drop = max(1, ordinary - limits.maxSessions + 1, limits.maxSessions / 100)
        let idlest = sessions.filter { $0.key != SessionID.serverWide }.sorted { ($0.value.lastUsedMs, $0.key) < ($1.value.lastUsedMs, $1.key) }.prefix(drop)
        for (id, _) in idlest {
            sessions[id] = nil
            effects.delete(Self.sessionKey(id))
        }
        effects.log(.info, "dropped the \(idlest.count) idlest sessions: at most \(limits.maxSessions) are kept (maxSessions)")
    }

    // MARK: - Wake-ups: idle expiry, and the round-robin positions written behind

    public var nextWakeMs: Int64? {
        switch (sweepAtMs, poolFlushAtMs) {
        case let (sweep?, flush?): min(sweep, flush)
        case let (sweep, flush): sweep ?? flush
        }
    }

    public mutating func wake(at nowMs: Int64, effects: inout Effects) {
        if let flush = poolFlushAtMs, flush <= nowMs { flushPools(effects: &effects) }
        if let sweep = sweepAtMs, sweep <= nowMs { sweepIdle(at: nowMs, effects: &effects) }
    }

    /// Drops sessions idle for `sessionIdleMs` (the server-wide one never) and plans the next sweep
    /// (at the next expiry, at least a minute on).
    mutating func sweepIdle(at nowMs: Int64, effects: inout Effects) {
        var next: Int64?
        var expired = 0
        for (id, entry) in sessions where id != SessionID.serverWide {
            let due = entry.lastUsedMs.addingReportingOverflow(limits.sessionIdleMs).partialValue
            if due <= nowMs {
                sessions[id] = nil
                effects.delete(Self.sessionKey(id))
                expired += 1
            } else {
                next = min(next ?? due, due)
            }
        }
        if expired > 0 { effects.log(.info, "expired \(expired) sessions idle for \(limits.sessionIdleMs) ms") }
        sweepAtMs = next.map { max($0, nowMs.addingReportingOverflow(60_000).partialValue) }
    }

    // MARK: - Checks

    static func checkNames(_ list: [String], field: String) throws(ModuleFailure) -> [String] {
        for (index, name) in list.enumerated() where !Names.isName(name) {
            throw .invalidInput("\(field)[\(index)] must be a provider name (letters, digits, '-', '_'), found \"\(Names.clip(name))\"")
        }
        return SessionState.unique(list)
    }

    static func checkPairs(_ list: [String], field: String, what: String) throws(ModuleFailure) -> [String] {
        for (index, item) in list.enumerated() {
            let parts = item.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, Names.isName(parts[0]), what == "provider.key" ? Names.isName(parts[1]) : Names.isModel(parts[1]) else {
                throw .invalidInput("\(field)[\(index)] must be \(what), found \"\(Names.clip(item))\"")
            }
        }
        return SessionState.unique(list)
    }

    static func checkPath(_ text: String, field: String, _ resolver: Resolver) throws(ModuleFailure) -> String {
        let paths: [Path]
        do throws(MarkerError) { paths = try InstructionParser.list(text[...]) } catch { throw .invalidInput("\(field): \(error.reason)") }
        guard paths.count == 1, paths[0].rest != nil else { throw .invalidInput("\(field) must be provider.model, provider.key or provider.key.model") }
        do throws(MarkerError) { return try resolver.resolve(paths[0]).text } catch { throw .invalidInput("\(field): \(error.reason)") }
    }
}

public struct SessionList: Codable, Sendable, Equatable {
    public var sessions: [SessionView]
}

public struct ClearResult: Codable, Sendable, Equatable {
    public var sessionId: String
    public var cleared: Bool
}

/// `routing.applyInstructions`' answer.
public struct Applied: Codable, Sendable, Equatable {
    public var text: String
    public var state: SessionView
    public var applied: [String]
    public var ignored: [IgnoredMarker]
}

public struct IgnoredMarker: Codable, Sendable, Equatable {
    public var marker: String
    public var reason: String
}
