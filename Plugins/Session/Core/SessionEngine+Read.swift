import Foundation
import ModuleSupport

/// `session.readStream`'s answer.
public struct StreamChunk: Codable, Sendable, Equatable {
    public struct Record: Codable, Sendable, Equatable {
        public var offset: UInt64
        public var timestampMs: UInt64
        public var direction: UInt8
        public var data: String  // base64
    }
    public var records: [Record]
    /// Where the next call starts (`fromOffset`) when `truncated`.
    public var nextOffset: UInt64?
    public var truncated: Bool
}

/// A read of `session.readStream`.
public struct StreamQuery: Decodable, Sendable {
    public var sessionId: String
    public var fromMs: UInt64?
    public var toMs: UInt64?
    public var direction: UInt8?
    public var fromOffset: UInt64?
}

extension SessionEngine {
    public static let maxReadBytes = 8 << 20

    /// The stream bytes of `session` in `[offset, offset + length)`: from disk, then pending.
    func streamBytes(_ session: LiveSession, offset: UInt64, length: UInt64) throws(ModuleFailure) -> [UInt8] {
        let end = min(offset + length, session.streamSize)
        guard end > offset else { return [] }
        var out: [UInt8] = []
        let flushed = session.flushedSize
        if offset < flushed {
            let count = Int(min(end, flushed) - offset)
            do { out = try disk.readStream(session.directory, offset: offset, length: count) } catch {
                throw .internalError("could not read the stream of \(session.meta.session_id): \(error)")
            }
        }
        if end > flushed {
            let from = Int(max(offset, flushed) - flushed), to = Int(end - flushed)
            out += session.pending[from..<to]
        }
        return out
    }

    /// Calls `body` with each record from `offset` on (its offset too), reading 4 MiB at a time.
    func eachRecord(_ session: LiveSession, from offset: UInt64 = 0, to end: UInt64? = nil,
                    _ body: (UInt64, StreamRecord) throws(ModuleFailure) -> Bool) throws(ModuleFailure) {
        var position = offset
        let end = min(end ?? session.streamSize, session.streamSize)
        while position < end {
            let chunk = try streamBytes(session, offset: position, length: min(end - position, 4 << 20))
            var at = 0
            while let size = StreamRecord.wholeRecord(chunk, at: at) {
                let record = StreamRecord(timestampMs: StreamRecord.readU64(chunk, at), direction: chunk[at + 8],
                                          data: Array(chunk[(at + StreamRecord.headerSize)..<(at + size)]))
                guard try body(position + UInt64(at), record) else { return }
                at += size
            }
            if at == 0 {  // one record larger than the chunk: read it whole
                let header = try streamBytes(session, offset: position, length: UInt64(StreamRecord.headerSize))
                guard header.count == StreamRecord.headerSize else { return }
                let size = UInt64(StreamRecord.headerSize) + UInt64(StreamRecord.readU32(header, 9))
                let whole = try streamBytes(session, offset: position, length: size)
                guard whole.count == Int(size) else { return }
                guard try body(position, StreamRecord(timestampMs: StreamRecord.readU64(whole, 0), direction: whole[8],
                                                      data: Array(whole[StreamRecord.headerSize...]))) else { return }
                at = Int(size)
            }
            position += UInt64(at)
        }
    }

    /// `session.readStream`: the records in the time range and direction, at most 8 MiB of data.
    public mutating func readStream(_ query: StreamQuery, at nowMs: Int64) throws(ModuleFailure) -> StreamChunk {
        if let d = query.direction, d > 1 { throw .invalidInput("direction must be 0 (input) or 1 (output)") }
        let session = try take(query.sessionId, at: nowMs)
        defer { sessions[query.sessionId] = session }
        var records: [StreamChunk.Record] = []
        var bytes = 0
        var next: UInt64? = nil
        try eachRecord(session, from: query.fromOffset ?? 0) { offset, record in
            if let from = query.fromMs, record.timestampMs < from { return true }
            if let to = query.toMs, record.timestampMs > to { return true }
            if let d = query.direction, record.direction != d { return true }
            if bytes + record.data.count > Self.maxReadBytes, !records.isEmpty { next = offset; return false }
            bytes += record.data.count
            records.append(.init(offset: offset, timestampMs: record.timestampMs, direction: record.direction,
                                 data: Data(record.data).base64EncodedString()))
            return true
        }
        return StreamChunk(records: records, nextOffset: next, truncated: next != nil)
    }

    /// `session.export {format: asciicast-v2}`: a cast asciinema plays (see `Asciicast`).
    public mutating func export(_ id: String, format: String, at nowMs: Int64) throws(ModuleFailure) -> String {
        guard format == "asciicast-v2" else { throw .invalidInput("format must be \"asciicast-v2\" (got \"\(format)\")") }
        let session = try take(id, at: nowMs)
        defer { sessions[id] = session }
        var cast = Asciicast(attrs: session.meta.attrs, startedAtMs: SessionTime.epochMs(session.meta.started_at))
        try eachRecord(session) { _, record in cast.add(record); return true }
        return cast.finish()
    }
}

extension SessionEngine {
    /// `session.context {sessionId, scope, maxChars?}`: `scope` `current` (this session's
    /// commands) or `all` (every session in memory).
    public mutating func context(_ id: String, scope: String?, maxChars: Int?, at nowMs: Int64) throws(ModuleFailure) -> ContextAnswer {
        let scope = scope ?? "current"
        guard scope == "current" || scope == "all" else { throw .invalidInput("scope must be \"current\" or \"all\" (got \"\(scope)\")") }
        if let maxChars, maxChars < 1 { throw .invalidInput("maxChars must be at least 1") }
        sessions[id] = try take(id, at: nowMs)
        var commands: [ContextCommand] = []
        let engine = self  // read lazily: only the detailed commands' output is read
        for session in sessions.values where scope == "all" || session.meta.session_id == id {
            for record in session.commands {
                commands.append(ContextCommand(sessionId: session.meta.session_id, record: record,
                                               output: { (try? engine.outputBytes(session, record)) ?? [] }))
            }
        }
        return ContextBuilder.build(commands, current: id, maxChars: maxChars)
    }

    /// A command's output: the output records of its stream range.
    func outputBytes(_ session: LiveSession, _ record: CommandRecord) throws(ModuleFailure) -> [UInt8] {
        var out: [UInt8] = []
        try eachRecord(session, from: record.stream_offset, to: record.stream_offset + record.stream_length) { _, r in
            if r.direction == 1 { out += r.data }
            return true
        }
        return out
    }
}
