import ModHostSupport
import ModuleSupport

extension SessionEngine {
    /// The marker appended once a session reaches its cap; nothing is recorded after it.
    static func capMarker(_ cap: UInt64) -> [UInt8] {
        Array("\r\n[modhost session: stream cap of \(cap) bytes reached, recording stopped]\r\n".utf8)
    }

    /// `session.writeIo` and `writeIoBatch`: appends the records (input ones only with
    /// `recordInput`), watches output for trigger patterns, flushes at 64 KiB.
    public mutating func write(_ id: String, _ records: [IORecord], at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> WriteAnswer {
        let recordInput = recordInput, cap = maxStreamBytes, triggers = triggers
        var session = try take(id, at: nowMs)
        defer { sessions[id] = session }
        guard !session.ended else {
            throw .reason("session_ended", "session \(id) has ended: register it again to record more", ["sessionId": .string(id)])
        }
        session.lastIoMs = nowMs
        var recorded = 0
        for record in records where !session.capped && (record.direction == 1 || recordInput) {
            let size = UInt64(StreamRecord.headerSize + record.data.count)
            let marker = Self.capMarker(cap)
            if session.streamSize + size + UInt64(StreamRecord.headerSize + marker.count) > cap {
                append(StreamRecord(timestampMs: record.timestampMs, direction: 1, data: marker), to: &session, at: nowMs)
                session.capped = true
                effects.log(.warning, "session \(id) reached its stream cap of \(cap) bytes: recording stopped")
                break
            }
            append(StreamRecord(timestampMs: record.timestampMs, direction: record.direction, data: record.data), to: &session, at: nowMs)
            recorded += 1
            if record.direction == 1, let pattern = triggers.match(record.data, tail: &session.patternTail),
               triggers.cooledDown(last: session.lastTriggerMs, now: nowMs) {
                session.lastTriggerMs = nowMs
                effects.publish("session.trigger", TriggerEvent(sessionId: id, kind: "pattern", pattern: pattern))
            }
        }
        if session.pending.count >= Self.flushBytes { try flush(&session) }
        return WriteAnswer(recorded: recorded, streamBytes: session.streamSize, capped: session.capped)
    }

    func append(_ record: StreamRecord, to session: inout LiveSession, at nowMs: Int64) {
        if session.pending.isEmpty { session.pendingSinceMs = nowMs }
        record.encode(into: &session.pending)
        session.streamSize += UInt64(record.encodedSize)
    }

    /// Writes what is pending to `stream.bin`. On failure the bytes stay pending (the next flush
    /// retries them), so nothing acknowledged is dropped while the host runs.
    func flush(_ session: inout LiveSession) throws(ModuleFailure) {
        guard !session.pending.isEmpty else { return }
        let bytes = session.pending, directory = session.directory
        try write { try disk.append(directory, bytes) }
        guard disk.writable else { return }  // a shadow keeps its stream in memory
        session.pending = []
        session.pendingSinceMs = nil
    }

    /// `session.commandComplete`: the record with the stream since the previous command
    /// (offset and length set here), `commands.json` rewritten; a non-zero exit may trigger.
    public mutating func commandComplete(_ id: String, _ input: CommandInput, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> CommandRecord {
        guard !input.commandId.isEmpty, input.commandId.utf8.count <= 256 else { throw .invalidInput("record.commandId must be 1 to 256 bytes long") }
        let triggers = triggers
        var session = try take(id, at: nowMs)
        defer { sessions[id] = session }
        try flush(&session)
        let record = CommandRecord(command_id: input.commandId, session_id: id, command_line: input.commandLine, cwd: input.cwd,
                                   started_at: input.startedAt, ended_at: input.endedAt, output_summary: input.outputSummary ?? "",
                                   stream_offset: session.lastCommandPos, stream_length: session.streamSize - session.lastCommandPos,
                                   exit_code: input.exitCode)
        session.commands.append(record)
        session.lastCommandPos = session.streamSize
        let commands = session.commands, directory = session.directory
        try write { try disk.writeCommands(directory, commands) }
        if triggers.triggers(exitCode: input.exitCode), triggers.cooledDown(last: session.lastTriggerMs, now: nowMs) {
            session.lastTriggerMs = nowMs
            effects.publish("session.trigger", TriggerEvent(sessionId: id, kind: "nonzero_exit", exitCode: input.exitCode, commandId: input.commandId))
        }
        return record
    }

    /// Every session's pending bytes to disk (before a stop, a hot swap, a shutdown).
    public mutating func flushAll(effects: inout Effects) {
        for id in Array(sessions.keys) {
            do { try flush(&sessions[id]!) } catch { effects.log(.error, "could not flush session \(id): \(error.message)") }
        }
    }

    public var nextWakeMs: Int64? {
        var next: Int64? = nil
        for session in sessions.values {
            if let since = session.pendingSinceMs, disk.writable { next = min(next ?? .max, since.addingSaturating(Self.flushAfterMs)) }
            if !session.ended { next = min(next ?? .max, session.lastIoMs.addingSaturating(idleEndMs)) }
        }
        return next
    }

    /// Flushes what has waited a second; ends sessions idle for `idleEndMs`.
    public mutating func wake(at nowMs: Int64, effects: inout Effects) {
        for id in Array(sessions.keys) {
            let session = sessions[id]!
            if let since = session.pendingSinceMs, since.addingSaturating(Self.flushAfterMs) <= nowMs {
                do { try flush(&sessions[id]!) } catch { effects.log(.error, "could not flush session \(id): \(error.message)") }
            }
            if !session.ended, session.lastIoMs.addingSaturating(idleEndMs) <= nowMs {
                do {
                    _ = try end(id, exitCode: nil, at: nowMs)
                    effects.log(.info, "ended session \(id) after \(idleEndMs / 1000) s without I/O")
                } catch { effects.log(.error, "could not end idle session \(id): \(error.message)") }
            }
        }
    }

    /// `session.evictInactive`: sessions without I/O for `hours` leave memory (flushed first);
    /// they stay on disk and reload on use.
    public mutating func evictInactive(hours: Double, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> [String] {
        guard hours >= 0 else { throw .invalidInput("hours must be 0 or more") }
        let limit = Int64(hours * 3_600_000)
        var evicted: [String] = []
        for (id, session) in sessions where nowMs - session.lastIoMs >= limit {
            do { try flush(&sessions[id]!) } catch { effects.log(.error, "kept session \(id) in memory: \(error.message)"); continue }
            sessions[id] = nil
            evicted.append(id)
        }
        return evicted.sorted()
    }

    /// `session.cleanup`: deletes the directories of sessions not in memory whose last activity
    /// (`ended_at`, else the last command's end, else `started_at`) is `olderThanHours` old.
    public mutating func cleanup(olderThanHours hours: Double, at nowMs: Int64, effects: inout Effects) throws(ModuleFailure) -> [String] {
        guard hours >= 0 else { throw .invalidInput("olderThanHours must be 0 or more") }
        let limit = Int64(hours * 3_600_000)
        var removed: [String] = []
        for (id, directory) in onDisk where sessions[id] == nil {
            guard let loaded = try? disk.load(directory) else { continue }
            guard nowMs - Self.lastActivityMs(loaded) >= limit else { continue }
            do {
                try disk.remove(directory)
                onDisk[id] = nil
                removed.append(id)
            } catch { effects.log(.error, "could not delete \(LogText.quote(directory)): \(error)") }
        }
        return removed.sorted()
    }
}
