import ModHostJSON

/// The `session` section of the host's `--config` file (Plugins/Session/README.md).
public struct SessionConfig: Decodable, Sendable {
    public var recordInput: Bool?
    public var autoTrigger: TriggerConfig?
    /// Per-session stream cap in bytes (default 256 MiB).
    public var maxStreamBytes: Int?
    /// No I/O for this long ends a session (default an hour).
    public var idleEndMs: Int64?
    /// Whether a socket client's sessions end when it disconnects (default true).
    public var endOnDisconnect: Bool?

    public init(recordInput: Bool? = nil, autoTrigger: TriggerConfig? = nil, maxStreamBytes: Int? = nil, idleEndMs: Int64? = nil,
                endOnDisconnect: Bool? = nil) {
        self.recordInput = recordInput
        self.autoTrigger = autoTrigger
        self.maxStreamBytes = maxStreamBytes
        self.idleEndMs = idleEndMs
        self.endOnDisconnect = endOnDisconnect
    }
}

/// A session in memory: omnish's meta and commands, and where its stream stands. `pending` is
/// what is appended but not yet on disk (flushed at 64 KiB, a second after its first byte, on
/// command completion, end, eviction and stop).
public struct LiveSession: Codable, Sendable {
    public var directory: String
    public var meta: SessionMeta
    public var commands: [CommandRecord]
    /// Bytes of `stream.bin` on disk and pending.
    public var streamSize: UInt64
    public var pending: [UInt8]
    public var pendingSinceMs: Int64?
    public var lastCommandPos: UInt64
    public var lastIoMs: Int64
    public var capped: Bool
    public var patternTail: [UInt8]
    public var lastTriggerMs: Int64?
    /// The socket client that registered the session (nil: stdio, a module, or read from disk).
    public var clientId: UInt64?

    public var flushedSize: UInt64 { streamSize - UInt64(pending.count) }
    public var ended: Bool { meta.ended_at != nil }
}

/// `session.list`'s entries and `session.get`'s answer (with `commands` there).
public struct SessionSummary: Codable, Sendable, Equatable {
    public var sessionId: String
    public var parentSessionId: String?
    public var startedAt: String
    public var endedAt: String?
    public var attrs: [String: String]
    public var directory: String
    public var commandCount: Int
    public var streamBytes: UInt64
    public var lastIoMs: Int64
    public var capped: Bool
    public var commands: [CommandRecord]?
}

/// One record of `session.writeIo` / `writeIoBatch` (data decoded from base64).
public struct IORecord: Sendable {
    public var timestampMs: UInt64
    public var direction: UInt8
    public var data: [UInt8]

    public init(timestampMs: UInt64, direction: UInt8, data: [UInt8]) {
        self.timestampMs = timestampMs
        self.direction = direction
        self.data = data
    }
}

/// `session.commandComplete`'s `record`.
public struct CommandInput: Decodable, Sendable {
    public var commandId: String
    public var commandLine: String?
    public var cwd: String?
    public var startedAt: UInt64
    public var endedAt: UInt64?
    public var exitCode: Int32?
    public var outputSummary: String?
}

/// `session.writeIo`'s answer: how the stream stands.
public struct WriteAnswer: Codable, Sendable, Equatable {
    public var recorded: Int
    public var streamBytes: UInt64
    public var capped: Bool
}
