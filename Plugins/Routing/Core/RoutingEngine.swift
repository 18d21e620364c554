import ModuleSupport

/// The routing module's rules: pools of `provider.key.model` targets with their round-robin
/// positions, per-session routing state (instructions, force, sticky, filters, stopMessage),
/// and target selection over what health reports usable. Pure: time comes in as `nowMs`, and
/// health's answer comes in as a value (the plugin asks `health.available` between the two
/// halves of a select, `selectKeys` and `select`). What the plugin must do afterwards goes into
/// `effects`.
public struct RoutingEngine: Sendable {
    public typealias Effects = ModuleEffectList

    /// A session and when it was last changed or selected for (in memory only: after a restart
    /// a session's idleness counts from its last change).
    public struct Entry: Codable, Sendable, Equatable {
        public var state: SessionState
        public var lastUsedMs: Int64
    }

    /// What a hot swap carries over: everything.
    public struct State: Codable, Sendable {
        public var sessions: [String: Entry]
        public var pools: [Pool]
        public var errors: [String: DecayingCount]
        public var sweepAtMs: Int64?
    }

    public let limits: RoutingLimits
    /// Pools the config defines, applied over stored ones at `load`.
    let configPools: [PoolDefinition]
    public internal(set) var sessions: [String: Entry] = [:]
    /// In creation order.
    public internal(set) var pools: [Pool] = []
    var poolIndex: [String: Int] = [:]
    var resolver = Resolver(pools: [])
    /// Recent errors per health key (health-weighted), decaying with a 10 min half-life.
    var errors: [String: DecayingCount] = [:]
    /// When the next idle sweep is due.
    var sweepAtMs: Int64?
    /// Pools whose round-robin position a select moved, stored by `flushPools`.
    var pendingPoolWrites: Set<Int> = []
    /// When `pendingPoolWrites` are stored (a wake-up), if any wait.
    var poolFlushAtMs: Int64?

    public init(limits: RoutingLimits = RoutingLimits(), pools: [PoolDefinition] = []) {
        self.limits = limits
        configPools = pools
    }

    /// Checks the config's pools (so a bad one fails the load, naming it).
    public init(config: RoutingConfig) throws(ModuleFailure) {
        let definitions = config.pools ?? []
        var names: Set<String> = []
        for (index, definition) in definitions.enumerated() {
            _ = try Pool(definition, field: "routing config pools[\(index)]")
            guard names.insert(definition.pool).inserted else { throw .invalidInput("routing config pools[\(index)]: pool \(definition.pool) is defined twice") }
        }
        self.init(limits: try RoutingLimits(config), pools: definitions)
    }

    // MARK: - Restore and swap

    /// The `pool/<name>` and `session/<id>` records of the last run, then the config's pools
    /// over the stored ones (a changed definition replaces it; the same targets keep their
    /// round-robin position).
    public mutating func load(pools stored: [Pool], sessions stored2: [(id: String, state: SessionState)], at nowMs: Int64, effects: inout Effects) {
        for pool in stored.sorted(by: { $0.seq < $1.seq }) where poolIndex[pool.name] == nil {
            poolIndex[pool.name] = pools.count
            pools.append(pool)
        }
        for (index, definition) in configPools.enumerated() {
            if let at = poolIndex[definition.pool] {
                guard pools[at].definition != definition, let pool = try? pools[at].redefined(definition, field: "pools[\(index)]") else { continue }
                pools[at] = pool
                effects.put(Self.poolKey(pool.name), encoding: pool)
            } else if var pool = try? Pool(definition, field: "pools[\(index)]") {
                pool.seq = (pools.map(\.seq).max() ?? -1) + 1
                poolIndex[pool.name] = pools.count
                pools.append(pool)
                effects.put(Self.poolKey(pool.name), encoding: pool)
            }
        }
        resolver = Resolver(pools: pools)
        for (id, state) in stored2 where (try? SessionID.check(id)) != nil {
            sessions[id] = Entry(state: state, lastUsedMs: state.updatedAtMs)
        }
        sweepAtMs = sessions.isEmpty ? nil : nowMs
    }

    public func exportState() -> State { State(sessions: sessions, pools: pools, errors: errors, sweepAtMs: sweepAtMs) }

    public mutating func importState(_ state: State) {
        sessions = state.sessions
        pools = state.pools
        poolIndex = Dictionary(uniqueKeysWithValues: pools.enumerated().map { ($1.name, $0) })
        resolver = Resolver(pools: pools)
        errors = state.errors
        sweepAtMs = state.sweepAtMs
    }

    static func poolKey(_ name: String) -> String { "pool/\(name)" }
    static func sessionKey(_ id: String) -> String { "session/\(id)" }

    // MARK: - Pools

    /// `routing.setPool`: defines or replaces a pool (stored; the same targets keep their position).
    public mutating func setPool(_ definition: PoolDefinition, effects: inout Effects) throws(ModuleFailure) -> PoolSet {
        var pool: Pool
        if let at = poolIndex[definition.pool] {
            pool = try pools[at].redefined(definition, field: "params")
            pools[at] = pool
        } else {
            pool = try Pool(definition, field: "params")
            pool.seq = (pools.map(\.seq).max() ?? -1) + 1
            poolIndex[pool.name] = pools.count
            pools.append(pool)
        }
        resolver = Resolver(pools: pools)
        effects.put(Self.poolKey(pool.name), encoding: pool)
        return PoolSet(pool: pool.name, targets: pool.targets.count)
    }

    /// `routing.pools`.
    public func poolList() -> PoolList {
        PoolList(pools: pools.map { PoolView(pool: $0.name, strategy: $0.strategy, fallback: $0.fallback, targets: $0.definition.targets) })
    }

    /// The pool a select without `pool` uses.
    var defaultPoolName: String? { limits.defaultPool ?? pools.first?.name }
}

/// `routing.setPool`'s answer.
public struct PoolSet: Codable, Sendable, Equatable {
    public var pool: String
    public var targets: Int
}

/// `routing.pools`' answer.
public struct PoolList: Codable, Sendable, Equatable {
    public var pools: [PoolView]
}

public struct PoolView: Codable, Sendable, Equatable {
    public var pool: String
    public var strategy: Strategy
    public var fallback: [String]
    public var targets: [PoolTarget]
}
