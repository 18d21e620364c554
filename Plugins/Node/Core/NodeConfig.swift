import ModuleSupport

/// The `node` section of the host's `--config` file. Every field is optional; the defaults are
/// MODULES.md's (apex-bridge's numbers).
public struct NodeConfig: Decodable, Sendable {
    /// Sent to agents at registration: how often to heartbeat (30 s).
    public var heartbeatIntervalMs: Int64?
    /// No heartbeat for this long: `offline` (90 s).
    public var heartbeatTimeoutMs: Int64?
    /// The module's own heartbeat check runs this often (5 s).
    public var checkIntervalMs: Int64?
    /// A closed connection takes its nodes offline after this long (10 s), unless they register again.
    public var disconnectGraceMs: Int64?
    /// At most this many nodes (100).
    public var maxNodes: Int?
    /// At most this many tasks waiting for a free node (1,000).
    public var maxQueued: Int?
    /// A queued task fails (`task_timeout`) after waiting this long for a node (60 s).
    public var queueTimeoutMs: Int64?
    /// Finished tasks kept for `node.taskGet` (1,000; the oldest go first).
    public var keepFinished: Int?
    /// A quota permit not released lapses after this long (10 min).
    public var permitTtlMs: Int64?
    /// Quota limits: `default`, then overrides per node `type` and per tag.
    public var quotas: QuotaConfig?

    public init() {}
}

/// Quota limits: the default, overridden field by field by the node's type, then by its tags in
/// the order the node lists them (a later tag wins).
public struct QuotaConfig: Decodable, Sendable {
    public var `default`: QuotaOverride?
    public var types: [String: QuotaOverride]?
    public var tags: [String: QuotaOverride]?
}

/// Some quota fields; absent ones keep the value below them.
public struct QuotaOverride: Decodable, Sendable {
    public var maxRequestsPerMinute: Int?
    public var maxTokensPerDay: Int64?
    public var maxConcurrentStreams: Int?
    public var burstMultiplier: Double?
}

/// Resolved limits with every value known.
public struct NodeLimits: Sendable {
    public var heartbeatIntervalMs: Int64 = 30_000
    public var heartbeatTimeoutMs: Int64 = 90_000
    public var checkIntervalMs: Int64 = 5_000
    public var disconnectGraceMs: Int64 = 10_000
    public var maxNodes = 100
    public var maxQueued = 1_000
    public var queueTimeoutMs: Int64 = 60_000
    public var keepFinished = 1_000
    public var permitTtlMs: Int64 = 600_000
    public var quotas: QuotaConfig?

    public init() {}

    /// Checks `config` and fills in the defaults.
    public init(_ config: NodeConfig) throws(ModuleFailure) {
        func positive<T: Comparable & Numeric>(_ value: T?, _ name: String, _ fallback: T) throws(ModuleFailure) -> T {
            guard let value else { return fallback }
            guard value > 0 else { throw .invalidInput("node.\(name) must be positive, got \(value)") }
            return value
        }
        heartbeatIntervalMs = try positive(config.heartbeatIntervalMs, "heartbeatIntervalMs", heartbeatIntervalMs)
        heartbeatTimeoutMs = try positive(config.heartbeatTimeoutMs, "heartbeatTimeoutMs", heartbeatTimeoutMs)
        checkIntervalMs = try positive(config.checkIntervalMs, "checkIntervalMs", checkIntervalMs)
        disconnectGraceMs = try positive(config.disconnectGraceMs, "disconnectGraceMs", disconnectGraceMs)
        maxNodes = try positive(config.maxNodes, "maxNodes", maxNodes)
        maxQueued = try positive(config.maxQueued, "maxQueued", maxQueued)
        queueTimeoutMs = try positive(config.queueTimeoutMs, "queueTimeoutMs", queueTimeoutMs)
        keepFinished = try positive(config.keepFinished, "keepFinished", keepFinished)
        permitTtlMs = try positive(config.permitTtlMs, "permitTtlMs", permitTtlMs)
        quotas = config.quotas
    }

    /// The quota limits of a node of `type` with `tags`.
    public func quotaLimits(type: String, tags: [String]) -> QuotaLimits {
        var limits = QuotaLimits()
        limits.apply(quotas?.default)
        limits.apply(quotas?.types?[type])
        for tag in tags { limits.apply(quotas?.tags?[tag]) }
        return limits
    }
}
