import ModuleSupport

/// The `routing` section of the host's `--config` file.
public struct RoutingConfig: Decodable, Sendable {
    /// Pools defined by the operator, in order: they replace stored pools of the same name at start.
    public var pools: [PoolDefinition]?
    /// The pool a select without `pool` uses (default: the first pool).
    public var defaultPool: String?
    /// A session unchanged and unused this long expires (default 7 days).
    public var sessionIdleMs: Int64?
    /// At most this many sessions (default 100,000); the idlest are dropped first.
    public var maxSessions: Int?
    /// The deadline of each call to `health.available` (default 2000 ms).
    public var healthTimeoutMs: Int?

    public init(pools: [PoolDefinition]? = nil, defaultPool: String? = nil, sessionIdleMs: Int64? = nil,
                maxSessions: Int? = nil, healthTimeoutMs: Int? = nil) {
        self.pools = pools
        self.defaultPool = defaultPool
        self.sessionIdleMs = sessionIdleMs
        self.maxSessions = maxSessions
        self.healthTimeoutMs = healthTimeoutMs
    }
}

/// The config's numbers, checked, with their defaults.
public struct RoutingLimits: Sendable, Equatable {
    public static let week: Int64 = 7 * 86_400_000
    public var sessionIdleMs: Int64 = week
    public var maxSessions = 100_000
    public var healthTimeoutMs = 2_000
    public var defaultPool: String?

    public init() {}

    public init(_ config: RoutingConfig) throws(ModuleFailure) {
        if let idle = config.sessionIdleMs {
            guard idle >= 1_000, idle <= 366 * 86_400_000 else { throw .invalidInput("routing config sessionIdleMs must be 1000 to 31622400000 (366 days), found \(idle)") }
            sessionIdleMs = idle
        }
        if let cap = config.maxSessions {
            guard cap >= 1, cap <= 1_000_000 else { throw .invalidInput("routing config maxSessions must be 1 to 1000000, found \(cap)") }
            maxSessions = cap
        }
        if let timeout = config.healthTimeoutMs {
            guard timeout >= 1, timeout <= 60_000 else { throw .invalidInput("routing config healthTimeoutMs must be 1 to 60000, found \(timeout)") }
            healthTimeoutMs = timeout
        }
        defaultPool = config.defaultPool
    }
}
