import ModHostSupport
import ModuleSupport

/// The session module's rules over omnish's files (`SessionDisk`): time comes in as `nowMs`
/// (the host clock), events and log lines go out as effects. Writes are buffered per session
/// and flushed by size, by a wake-up a second after the first pending byte, and at every point
/// where omnish's tools must see the stream (command completion, end, eviction, stop).
public struct SessionEngine: ModuleEngine {
    public typealias Effects = ModuleEffectList

    public struct State: Codable, Sendable {
        public var sessions: [String: LiveSession]
        public var onDisk: [String: String]
    }

    public static let flushBytes = 64 * 1024
    public static let flushAfterMs: Int64 = 1000
    public static let maxWriteBytes = 1 << 20
    public static let maxBatchRecords = 1000
    public static let maxBatchBytes = 8 << 20

    public let disk: SessionDisk
    public let recordInput: Bool
    public let maxStreamBytes: UInt64
    public let idleEndMs: Int64
    public let triggers: TriggerDetector
    public let endOnDisconnect: Bool
    /// Sessions in memory, by id.
    public internal(set) var sessions: [String: LiveSession] = [:]
    /// Every session directory known on disk, by id (evicted ones reload from here on use).
    public internal(set) var onDisk: [String: String] = [:]

    public init(disk: SessionDisk, config: SessionConfig) throws(ModuleFailure) {
        self.disk = disk
        recordInput = config.recordInput ?? true
        let cap = config.maxStreamBytes ?? 256 << 20
        guard cap >= 1024 else { throw .invalidInput("session.maxStreamBytes must be at least 1024 (got \(cap))") }
        maxStreamBytes = UInt64(cap)
        idleEndMs = config.idleEndMs ?? 3_600_000
        guard idleEndMs > 0 else { throw .invalidInput("session.idleEndMs must be positive") }
        if let cooldown = config.autoTrigger?.cooldownSeconds, !(cooldown >= 0) {
            throw .invalidInput("session.autoTrigger.cooldownSeconds must be 0 or more (got \(cooldown))")
        }
        triggers = TriggerDetector(config.autoTrigger)
        endOnDisconnect = config.endOnDisconnect ?? true
    }

    // MARK: - Loading

    /// Reads every session directory; an unreadable one is moved to `corrupt/`.
    public mutating func loadAll(at nowMs: Int64, effects: inout Effects) {
        for directory in disk.directories() {
            do {
                let loaded = try disk.load(directory)
                let id = loaded.meta.session_id
                guard (try? SessionID.check(id)) != nil, directory.hasSuffix("_" + id) else {
                    throw DiskError("meta.json names session \(LogText.quote(id)), not this directory's")
                }
                if loaded.cutBytes > 0 { effects.log(.warning, "cut a torn tail of \(loaded.cutBytes) bytes from \(LogText.quote(directory))/stream.bin") }
                onDisk[id] = directory
                sessions[id] = Self.live(directory, loaded, at: nowMs)
            } catch {
                let moved = (try? disk.moveAside(directory)) ?? "(could not move it)"
                effects.log(.error, "session directory \(LogText.quote(directory)) is unreadable (\(LogText.quote("\(error)"))); moved to \(LogText.quote(moved))")
            }
        }
        if !sessions.isEmpty { effects.log(.info, "loaded \(sessions.count) sessions") }
    }

    /// A session read from disk. Its last I/O is taken from the files (the latest of
    /// `ended_at`, the last command's end and `started_at`), never later than `nowMs`, so a
    /// reload does not make an idle session look busy.
    static func live(_ directory: String, _ loaded: SessionDisk.Loaded, at nowMs: Int64) -> LiveSession {
        let last = loaded.commands.last.map { $0.stream_offset + $0.stream_length } ?? 0
        return LiveSession(directory: directory, meta: loaded.meta, commands: loaded.commands, streamSize: loaded.streamSize, pending: [],
                           pendingSinceMs: nil, lastCommandPos: min(last, loaded.streamSize),
                           lastIoMs: min(nowMs, lastActivityMs(loaded)), capped: false,
                           patternTail: [], lastTriggerMs: nil, clientId: nil)
    }

    /// Takes the session `id` out of `sessions` (reloaded from disk after an eviction) for an
    /// operation to change and put back; else `session_not_found`.
    mutating func take(_ id: String, at nowMs: Int64) throws(ModuleFailure) -> LiveSession {
        try SessionID.check(id)
        if let session = sessions.removeValue(forKey: id) { return session }
        guard let directory = onDisk[id] else {
            throw .reason("session_not_found", "no session \(id): register it first", ["sessionId": .string(id)])
        }
        do {
            return Self.live(directory, try disk.load(directory), at: nowMs)
        } catch {
            throw .internalError("session \(id) could not be reloaded from \(directory): \(error)")
        }
    }

    /// The latest time the files of a session record.
    static func lastActivityMs(_ loaded: SessionDisk.Loaded) -> Int64 {
        let times = [loaded.meta.ended_at, loaded.meta.started_at].compactMap { $0 }.compactMap(SessionTime.epochMs)
        return max(times.max() ?? 0, Int64(clamping: loaded.commands.compactMap(\.ended_at).max() ?? 0))
    }

    // MARK: - Register, update, end

    /// `session.register`: a new session (its directory created), or new attrs for a known one
    /// (an ended one is reopened, as omnish does on a reconnect).
    /// `client` is the socket client that called (its disconnect ends the session), or nil.
    public mutating func register(_ id: String, parent: String?, attrs: [String: String], client: UInt64? = nil,
                                  at nowMs: Int64) throws(ModuleFailure) -> SessionSummary {
        try SessionID.check(id)
        if let parent { try SessionID.check(parent, field: "parentSessionId") }
        if sessions[id] != nil || onDisk[id] != nil {
            var session = try take(id, at: nowMs)
            defer { sessions[id] = session }
            session.meta.attrs = attrs
            session.meta.ended_at = nil
            if let parent { session.meta.parent_session_id = parent }
            session.lastIoMs = nowMs
            session.clientId = client
            try write { try disk.writeMeta(session.directory, session.meta) }
            return Self.summary(session)
        }
        let started = SessionTime.rfc3339(ms: nowMs)
        let directory = SessionTime.directoryName(startedAt: started, sessionId: id)
        let meta = SessionMeta(session_id: id, parent_session_id: parent, started_at: started, ended_at: nil, attrs: attrs)
        try write { try disk.create(directory, meta: meta) }
        let session = LiveSession(directory: directory, meta: meta, commands: [], streamSize: 0, pending: [], pendingSinceMs: nil,
                                  lastCommandPos: 0, lastIoMs: nowMs, capped: false, patternTail: [], lastTriggerMs: nil, clientId: client)
        sessions[id] = session
        onDisk[id] = directory
        return Self.summary(session)
    }

    /// `session.update`: merges attrs.
    public mutating func update(_ id: String, attrs: [String: String], at nowMs: Int64) throws(ModuleFailure) -> SessionSummary {
        var session = try take(id, at: nowMs)
        defer { sessions[id] = session }
        session.meta.attrs.merge(attrs) { $1 }
        try write { try disk.writeMeta(session.directory, session.meta) }
        return Self.summary(session)
    }

    /// `session.end`: flushes the stream and writes `ended_at`.
    public mutating func end(_ id: String, exitCode: Int32?, at nowMs: Int64) throws(ModuleFailure) -> SessionSummary {
        var session = try take(id, at: nowMs)
        defer { sessions[id] = session }
        try flush(&session)
        session.meta.ended_at = SessionTime.rfc3339(ms: nowMs)
        if let exitCode { session.meta.attrs["exit_code"] = String(exitCode) }
        try write { try disk.writeMeta(session.directory, session.meta) }
        return Self.summary(session)
    }

    /// `host.client_disconnected`: the open sessions that client registered end (with
    /// `endOnDisconnect`), flushed and with `ended_at` written.
    public mutating func clientGone(_ client: UInt64, at nowMs: Int64, effects: inout Effects) {
        guard endOnDisconnect else { return }
        for (id, session) in sessions where session.clientId == client && !session.ended {
            do {
                _ = try end(id, exitCode: nil, at: nowMs)
                effects.log(.info, "ended session \(id): its client \(client) disconnected")
            } catch { effects.log(.error, "could not end session \(id) of client \(client): \(error.message)") }
        }
    }

    public func list() -> [SessionSummary] {
        sessions.values.map { Self.summary($0) }.sorted { ($0.startedAt, $0.sessionId) < ($1.startedAt, $1.sessionId) }
    }

    public mutating func get(_ id: String, at nowMs: Int64) throws(ModuleFailure) -> SessionSummary {
        let session = try take(id, at: nowMs)
        defer { sessions[id] = session }
        var summary = Self.summary(session)
        summary.commands = session.commands
        return summary
    }

    static func summary(_ s: LiveSession) -> SessionSummary {
        SessionSummary(sessionId: s.meta.session_id, parentSessionId: s.meta.parent_session_id, startedAt: s.meta.started_at,
                       endedAt: s.meta.ended_at, attrs: s.meta.attrs, directory: s.directory, commandCount: s.commands.count,
                       streamBytes: s.streamSize, lastIoMs: s.lastIoMs, capped: s.capped, commands: nil)
    }

    /// Runs a disk operation, its failure a -32603 naming the file.
    func write(_ body: () throws -> Void) throws(ModuleFailure) {
        do { try body() } catch { throw .internalError("session storage failed: \(error)") }
    }

    public func exportState() -> State { State(sessions: sessions, onDisk: onDisk) }
    public mutating func importState(_ state: State) {
        sessions = state.sessions
        onDisk = state.onDisk
    }
}
