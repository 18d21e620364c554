import Foundation
import ModuleContracts
import ModHostJSON
import ModuleSupport

/// `routing.select` in MODULES.md's order: filters on every candidate, forced (consumed), sticky
/// (cleared when none of its keys is usable), the pool's strategy over what health reports
/// usable minus `exclude`, then the fallback pools. In two halves around the plugin's call to
/// `health.available {peek: true}`: `selectKeys` says which keys to ask about, `select` decides.
extension RoutingEngine {
    /// The health keys a select needs health's word on, in pool order.
    public func selectKeys(_ request: SelectRequest) throws(ModuleFailure) -> [String] {
        try SessionID.check(request.sessionId)
        for (index, key) in (request.exclude ?? []).enumerated() where !key.contains(".") {
            throw .invalidInput("exclude[\(index)] must be a providerKey (provider.key), found \"\(Names.clip(key))\"")
        }
        let own = sessions[request.sessionId]?.state, global = sessions[SessionID.serverWide]?.state
        let wide = own?.forcedTarget != nil || own?.stickyTarget != nil || global?.forcedTarget != nil || global?.stickyTarget != nil
        let indexes = wide ? Array(pools.indices) : chain(request.pool).indexes
        var seen: Set<String> = []
        return indexes.flatMap { pools[$0].targets.map(\.providerKey) }.filter { seen.insert($0).inserted }
    }

    /// Decides the select given health's answer for `selectKeys`; changes state unless `dryRun`.
    public mutating func select(_ request: SelectRequest, health answer: AvailableAnswer, at nowMs: Int64,
                                effects: inout Effects) throws(ModuleFailure) -> SelectOutcome {
        let dry = request.dryRun ?? false
        let id = request.sessionId
        let own = sessions[id]?.state, global = sessions[SessionID.serverWide]?.state
        if !dry { sessions[id]?.lastUsedMs = nowMs }
        let filters = Filters(own, global)
        let health = HealthView(answer)
        let exclude = Set(request.exclude ?? [])
        let (chainIndexes, missing) = chain(request.pool)
        var candidates: [Candidate] = []

        func candidate(_ pool: Int, _ target: Int, _ stage: String, _ why: String?) {
            let t = pools[pool].targets[target]
            candidates.append(Candidate(target: t.description, providerKey: t.providerKey, pool: pools[pool].name, stage: stage, excluded: why))
        }
        func finish(_ pool: Int, _ target: Int, via: String) -> SelectOutcome {
            let t = pools[pool].targets[target]
            let chosen = Selection(target: t.description, provider: t.provider, key: t.key, model: t.model, providerKey: t.providerKey,
                                   pool: pools[pool].name, via: via, series: pools[pool].definition.targets[target].series)
            return dry ? .dryRun(DryRun(candidates: candidates, chosen: chosen)) : .chosen(chosen)
        }
        func fail(_ failure: ModuleFailure) throws(ModuleFailure) -> SelectOutcome {
            guard dry else { throw failure }
            return .dryRun(DryRun(candidates: candidates, failure: DryRunFailure(reason: failure.reasonWord, detail: failure.message)))
        }
        let searchOrder = chainIndexes + pools.indices.filter { !chainIndexes.contains($0) }

        // 1-2. Forced: consumed; filtered or unhealthy fails, naming why.
        if let (owner, text) = own?.forcedTarget.map({ (id, $0) }) ?? global?.forcedTarget.map({ (SessionID.serverWide, $0) }) {
            if !dry, var state = sessions[owner]?.state {
                state.forcedTarget = nil
                change(owner, to: state, at: nowMs, effects: &effects)
            }
            let matches = resolver.resolve(text: text).map { matching($0, in: searchOrder) } ?? []
            var firstWhy: String?
            for (pool, target) in matches {
                let t = pools[pool].targets[target]
                let why = filters.reason(t) ?? health.reason(t.providerKey)
                candidate(pool, target, "forced", why)
                if why == nil { return finish(pool, target, via: "forced") }
                if firstWhy == nil { firstWhy = filters.reason(t) ?? "unhealthy" }
            }
            let detail = firstWhy ?? "not_found"
            return try fail(.reason("forced_target_unavailable", "forced target \(text) is \(detail == "not_found" ? "in no pool" : detail)",
                                    ["detail": .string(detail), "target": .string(text)]))
        }

        // 3. Sticky: the usable sticky keys, with the first pool holding one's strategy.
        if request.bypassSticky != true,
            let (owner, text) = own?.stickyTarget.map({ (id, $0) }) ?? global?.stickyTarget.map({ (SessionID.serverWide, $0) })
        {
            let matches = resolver.resolve(text: text).map { matching($0, in: searchOrder) } ?? []
            var usable: [(Int, Int)] = []
            var onlyExcluded = false
            for (pool, target) in matches {
                let t = pools[pool].targets[target]
                var why = filters.reason(t) ?? health.reason(t.providerKey)
                if why == nil, exclude.contains(t.providerKey) {
                    why = "excluded"
                    onlyExcluded = true
                }
                candidate(pool, target, "sticky", why)
                if why == nil { usable.append((pool, target)) }
            }
            if let pool = usable.first?.0 {
                let indexes = usable.filter { $0.0 == pool }.map(\.1)
                if let target = pick(pool, indexes, at: nowMs, advance: !dry) { return finish(pool, target, via: "sticky") }
            } else if !onlyExcluded {
                let reason = matches.isEmpty ? "sticky target \(text) is in no pool" : "no key of sticky target \(text) is usable (disabled, not allowed or unhealthy)"
                if !dry, var state = sessions[owner]?.state {
                    state.stickyTarget = nil
                    change(owner, to: state, at: nowMs, effects: &effects)
                    effects.publish(Self.stickyCleared, StickyCleared(sessionId: owner, reason: reason))
                }
            }
        }

        // 4-5. The pool's strategy, then its fallbacks.
        var details: [String] = missing.map { "no pool named \($0)" }
        var recovery: Int64?
        for pool in chainIndexes {
            var usable: [Int] = []
            var counts: [String: Int] = [:]
            for (index, t) in pools[pool].targets.enumerated() {
                var why = filters.reason(t)
                if why == nil, exclude.contains(t.providerKey) { why = "excluded" }
                if why == nil, let out = health.out[t.providerKey] {
                    why = health.reason(t.providerKey)
                    counts[Self.stateWords[out.state] ?? out.state, default: 0] += 1
                    if let until = out.untilMs { recovery = min(recovery ?? until, until) }
                } else if let why {
                    counts[why == "excluded" ? "excluded" : why == "disabled" ? "disabled" : "not allowed", default: 0] += 1
                }
                candidate(pool, index, "pool", why)
                if why == nil { usable.append(index) }
            }
            if let target = pick(pool, usable, at: nowMs, advance: !dry) { return finish(pool, target, via: "pool") }
            details.append("pool \(pools[pool].name): " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        var fields: [String: JSONValue] = ["detail": .string("")]
        let detail: String
        if pools.isEmpty {
            detail = "no pool is configured: define one with routing.setPool or the routing config's pools"
        } else if chainIndexes.isEmpty {
            detail = details.joined(separator: "; ") + " (pools: \(pools.map(\.name).joined(separator: ", ")))"
        } else {
            detail = "nothing usable: " + details.joined(separator: "; ")
        }
        fields["detail"] = .string(detail)
        if let recovery { fields["retryAfterMs"] = .int(max(0, recovery.subtractingReportingOverflow(nowMs).partialValue)) }
        return try fail(.reason("no_target_available", "no target available: \(detail)", fields))
    }

    /// Health's `state` words for a detail.
    static let stateWords = ["cooldown": "cooling down", "open": "open", "halfOpen": "probing", "blacklisted": "blacklisted"]

    /// Picks with the pool's strategy (health-weighted reads the key's recent errors).
    mutating func pick(_ pool: Int, _ usable: [Int], at nowMs: Int64, advance: Bool) -> Int? {
        let targets = pools[pool].targets
        let errors = self.errors
        let before = pools[pool].current
        let picked = pools[pool].pick(usable, factor: { errors[targets[$0].providerKey]?.factor(at: nowMs) ?? 1 }, advance: advance)
        if advance, pools[pool].current != before {
            pendingPoolWrites.insert(pool)
            // Written behind, at most once a second: a store write is on disk when it returns
            // (about a millisecond), too dear for every select; a kill -9 loses at most that
            // second of positions, a hot swap none (they cross in the state).
            if poolFlushAtMs == nil { poolFlushAtMs = nowMs.addingReportingOverflow(Self.positionFlushMs).partialValue }
        }
        return picked
    }

    /// The requested pool (or the default) and its fallbacks, breadth first, at most 5 hops,
    /// each once; and the names asked for that do not exist.
    func chain(_ name: String?) -> (indexes: [Int], missing: [String]) {
        guard let start = name ?? defaultPoolName else { return ([], []) }
        var indexes: [Int] = [], missing: [String] = []
        var frontier = [start], hops = 0
        var seen: Set<String> = []
        while !frontier.isEmpty, hops <= PoolDefinition.maxFallbackHops {
            var next: [String] = []
            for name in frontier where seen.insert(name).inserted {
                guard let index = poolIndex[name] else {
                    missing.append(name)
                    continue
                }
                indexes.append(index)
                next += pools[index].fallback
            }
            frontier = next
            hops += 1
        }
        return (indexes, missing)
    }

    /// The (pool, target) pairs `resolved` names, pools in `order`.
    func matching(_ resolved: Resolved, in order: [Int]) -> [(Int, Int)] {
        order.flatMap { pool in pools[pool].targets.indices.filter { resolved.matches(pools[pool].targets[$0]) }.map { (pool, $0) } }
    }

    /// `provider.error` / `provider.success`: health-weighted's recent errors.
    public mutating func noteError(_ providerKey: String, at nowMs: Int64) {
        errors[providerKey, default: DecayingCount(atMs: nowMs)].add(1, at: nowMs)
    }

    public mutating func noteSuccess(_ providerKey: String, at nowMs: Int64) {
        guard errors[providerKey] != nil else { return }
        errors[providerKey]!.add(-1, at: nowMs)
        if errors[providerKey]!.value < 0.01 { errors[providerKey] = nil }
    }

    /// How long after a select moved a pool's round-robin position it is stored.
    public static let positionFlushMs: Int64 = 1_000

    /// Stores the pools whose round-robin position moved (a wake-up `positionFlushMs` after the
    /// first move, and at stop).
    public mutating func flushPools(effects: inout Effects) {
        for pool in pendingPoolWrites.sorted() { effects.put(Self.poolKey(pools[pool].name), encoding: pools[pool]) }
        pendingPoolWrites = []
        poolFlushAtMs = nil
    }
}

/// `routing.sticky_cleared`.
public struct StickyCleared: Codable, Sendable, Equatable {
    public var sessionId: String
    public var reason: String
}

/// The session's filters with the server-wide session's under them: disables add up; two
/// allow-lists meet.
struct Filters {
    var allowed: Set<String>?
    var providers: Set<String> = [], keys: Set<String> = [], models: Set<String> = []

    init(_ own: SessionState?, _ global: SessionState?) {
        for state in [own, global].compactMap({ $0 }) {
            providers.formUnion(state.disabledProviders)
            keys.formUnion(state.disabledKeys)
            models.formUnion(state.disabledModels)
            if !state.allowedProviders.isEmpty { allowed = allowed.map { $0.intersection(state.allowedProviders) } ?? Set(state.allowedProviders) }
        }
    }

    func reason(_ target: Target) -> String? {
        if providers.contains(target.provider) || keys.contains(target.providerKey) || models.contains("\(target.provider).\(target.model)") { return "disabled" }
        if let allowed, !allowed.contains(target.provider) { return "not_allowed" }
        return nil
    }
}

/// Health's answer by key.
struct HealthView {
    var out: [String: AvailableAnswer.Unavailable] = [:]

    init(_ answer: AvailableAnswer) {
        for entry in answer.unavailable { out[entry.providerKey] = entry }
    }

    /// `cooldown until 2026-01-01T00:01:00Z`, or nil when usable.
    func reason(_ key: String) -> String? {
        guard let entry = out[key] else { return nil }
        guard let until = entry.untilMs else { return entry.state }
        return "\(entry.state) until \(Date(timeIntervalSince1970: Double(until) / 1000).formatted(.iso8601))"
    }
}

extension ModuleFailure {
    var reasonWord: String {
        if case .failed(let reason) = kind { return reason }
        return "invalid_input"
    }
}
