import ModuleSupport

/// How a pool picks among its usable targets.
public enum Strategy: String, Codable, Sendable, CaseIterable {
    /// Lowest `priority` first (default: the target's position), the next group only when a whole
    /// group is out; smooth weighted round-robin inside a group.
    case priority
    /// Smooth weighted round-robin, as nginx: weights {5,1,1} give `a a b a c a a`.
    case weighted
    /// `weighted` with each weight scaled by max(0.5, 1 − 0.1 × recent errors) of its key.
    case healthWeighted = "health-weighted"
}

/// One target of a pool as configured.
public struct PoolTarget: Codable, Sendable, Equatable {
    public var target: String
    public var priority: Int?
    public var weight: Int?
    public var series: String?

    public init(target: String, priority: Int? = nil, weight: Int? = nil, series: String? = nil) {
        self.target = target
        self.priority = priority
        self.weight = weight
        self.series = series
    }
}

/// `routing.setPool`'s params and a pool's config: the definition, without run-time state.
public struct PoolDefinition: Codable, Sendable, Equatable {
    public var pool: String
    public var targets: [PoolTarget]
    public var strategy: Strategy?
    public var fallback: [String]?

    public init(pool: String, targets: [PoolTarget], strategy: Strategy? = nil, fallback: [String]? = nil) {
        self.pool = pool
        self.targets = targets
        self.strategy = strategy
        self.fallback = fallback
    }

    public static let maxTargets = 1_000
    public static let maxFallback = 5
    public static let maxFallbackHops = 5

    /// The parsed targets, each checked; `field` is how the caller names this definition.
    public func check(field: String) throws(ModuleFailure) -> [Target] {
        guard Names.isName(pool) else { throw .invalidInput("\(field).pool must be 1 to 64 letters, digits, '-' or '_', found \"\(Names.clip(pool))\"") }
        guard !targets.isEmpty else { throw .invalidInput("\(field).targets is empty: a pool needs at least one provider.key.model target") }
        guard targets.count <= Self.maxTargets else { throw .invalidInput("\(field).targets has \(targets.count) targets, over the limit of \(Self.maxTargets)") }
        var parsed: [Target] = []
        var seen: Set<Target> = []
        for (index, entry) in targets.enumerated() {
            let target = try Target(parsing: entry.target, field: "\(field).targets[\(index)].target")
            guard seen.insert(target).inserted else { throw .invalidInput("\(field).targets[\(index)]: \(target) is listed twice") }
            if let weight = entry.weight, !(1...1_000_000).contains(weight) {
                throw .invalidInput("\(field).targets[\(index)].weight must be 1 to 1000000, found \(weight)")
            }
            if let series = entry.series, !Names.isModel(series) { throw .invalidInput("\(field).targets[\(index)].series is not a name") }
            parsed.append(target)
        }
        let fallback = fallback ?? []
        guard fallback.count <= Self.maxFallback else {
            throw .invalidInput("\(field).fallback has \(fallback.count) pools, over the limit of \(Self.maxFallback) hops")
        }
        for (index, name) in fallback.enumerated() where !Names.isName(name) || name == pool {
            throw .invalidInput("\(field).fallback[\(index)] must name another pool, found \"\(Names.clip(name))\"")
        }
        return parsed
    }
}

/// A pool: its definition, its parsed targets, and its round-robin position (the smooth
/// weighted round-robin's current weights, one per target), which the sessions selecting from
/// it share and which is stored with it.
public struct Pool: Codable, Sendable, Equatable {
    public var definition: PoolDefinition
    public var targets: [Target]
    /// nginx's `current_weight` per target, in target order.
    public var current: [Int64]
    /// Creation order: pools list (and `provider.N` counts keys) in this order.
    public var seq: Int = 0

    public init(_ definition: PoolDefinition, field: String) throws(ModuleFailure) {
        self.definition = definition
        targets = try definition.check(field: field)
        current = Array(repeating: 0, count: targets.count)
    }

    public var name: String { definition.pool }
    public var strategy: Strategy { definition.strategy ?? .weighted }
    public var fallback: [String] { definition.fallback ?? [] }

    func weight(_ index: Int) -> Int64 { Int64(definition.targets[index].weight ?? 1) }
    func priority(_ index: Int) -> Int { definition.targets[index].priority ?? index }

    /// Picks among `usable` (target indexes, in target order) with the pool's strategy and
    /// advances the round-robin position when `advance`. `factor` scales a weight (health-weighted).
    public mutating func pick(_ usable: [Int], factor: (Int) -> Double, advance: Bool) -> Int? {
        guard !usable.isEmpty else { return nil }
        var group = usable
        if strategy == .priority, let best = usable.map(priority).min() {
            group = usable.filter { priority($0) == best }
        }
        let scaled = strategy == .healthWeighted
        var weights = current
        // nginx's smooth weighted round-robin over the usable ones: each gains its weight, the
        // highest (the first in target order on a tie) is picked and loses the total.
        var total: Int64 = 0
        var best: Int?
        for index in group {
            let effective = scaled ? max(1, Int64((Double(weight(index)) * 1000 * factor(index)).rounded())) : weight(index) * 1000
            weights[index] = weights[index].addingReportingOverflow(effective).partialValue
            total += effective
            if best == nil || weights[index] > weights[best!] { best = index }
        }
        guard let best else { return nil }
        weights[best] -= total
        if advance { current = weights }
        return best
    }

    /// The same pool with a new definition; the position is kept when the targets are the same.
    public func redefined(_ definition: PoolDefinition, field: String) throws(ModuleFailure) -> Pool {
        var pool = try Pool(definition, field: field)
        if pool.targets == targets { pool.current = current }
        pool.seq = seq
        return pool
    }
}
