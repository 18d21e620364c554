// Routing: per-session routing state and health-aware target selection for modhost. The rules
// live in RoutingCore (pure, unit-tested); this file is the plugin around them, on ModuleKit.
// Docs: ../README.md.
//
// A select is two operations around an inter-module call: the keys to ask about, then
// `health.available {peek: true}` through the registry (so a hot swap of health is invisible
// here), then the decision, then a plain `health.available` of the chosen key alone (the claim:
// a halfOpen key's one probe is handed out only to the select that uses it).
import ModHostPluginSDK
import ModuleContracts
import ModuleKit
import RoutingCore

final class Routing: EngineModule {
    static let id = "routing"
    static let version = "1.0.0"
    static let description = "Per-session routing state, RouteCodex instructions, health-aware target selection"
    static let requires = ["health >=1.0 <2"]

    let engine: EngineHost<RoutingEngine>
    let healthDeadline: Duration

    init(host: PluginHost, config: RawJSON) throws {
        let engine = try RoutingEngine(config: host.readConfig(RoutingConfig.self, from: config))
        self.engine = EngineHost(host: host, engine)
        healthDeadline = .milliseconds(engine.limits.healthTimeoutMs)
    }

    /// The round-robin positions written behind are stored before the kit stops the engine.
    func stop() {
        try? engine.perform { engine, _, effects in engine.flushPools(effects: &effects) }
        engine.stop()
    }

    /// The `pool/<name>` and `session/<id>` records of the last run.
    func restore(_ records: StoredRecords, into routing: inout RoutingEngine, at now: Int64, effects: inout ModuleEffectList) throws {
        let pools = try records.read("pool/", as: Pool.self)
        let sessions = try records.readNamed("session/", as: SessionState.self).map { (id: $0.name, state: $0.value) }
        routing.load(pools: pools, sessions: sessions, at: now, effects: &effects)
        engine.host.log(.info, "restored \(routing.pools.count) pools and \(routing.sessions.count) sessions")
    }

    /// `routing.select`: see the file's comment. A claim refused (the probe went to someone else
    /// meanwhile) selects again without that key, at most 3 times.
    func select(_ request: SelectRequest) async throws -> SelectOutcome {
        var request = request
        for _ in 0..<3 {
            let keys = try engine.perform { engine, _, _ in try engine.selectKeys(request) }
            let answer = try await available(keys, peek: true)
            let outcome = try engine.perform { engine, now, effects in try engine.select(request, health: answer, at: now, effects: &effects) }
            switch outcome {
            case .dryRun: return outcome
            case .chosen(let chosen):
                let claim = try await available([chosen.providerKey], peek: false)
                if claim.available == [chosen.providerKey] { return outcome }
                if chosen.via == "forced" {
                    throw ModuleFailure.reason("forced_target_unavailable", "forced target \(chosen.target) is unhealthy",
                                               ["detail": "unhealthy", "target": .string(chosen.target)])
                }
                request.exclude = (request.exclude ?? []) + [chosen.providerKey]
            }
        }
        throw ModuleFailure.reason("no_target_available", "no target available: every chosen key was taken before it could be claimed",
                                   ["detail": "every chosen key was taken before it could be claimed"])
    }

    /// `health.available` through the registry, with the config's deadline.
    func available(_ keys: [String], peek: Bool) async throws -> AvailableAnswer {
        guard !keys.isEmpty else { return AvailableAnswer(available: [], unavailable: []) }
        do {
            return try await engine.host.call("health.available", params: AvailableRequest(providerKeys: keys, peek: peek ? true : nil),
                                              deadline: healthDeadline, as: AvailableAnswer.self)
        } catch let error as PluginError {
            throw ModuleFailure.reason("health_unavailable", "routing could not ask health.available: \(error.message)")
        }
    }

    static func register(_ methods: inout Methods<Routing>) {
        methods.add("select") { (routing, p: SelectRequest) async throws -> SelectOutcome in try await routing.select(p) }
        methods.add("setPool") { (routing, p: PoolDefinition) in try routing.engine.perform { try $0.setPool(p, effects: &$2) } }
        methods.add("pools") { routing in try routing.engine.perform { engine, _, _ in engine.poolList() } }
        methods.add("get", params: ["sessionId"]) { (routing, p: SessionQuery) in try routing.engine.perform { engine, now, _ in try engine.get(p.sessionId, at: now) } }
        methods.add("set") { (routing, p: SessionUpdate) in try routing.engine.perform { try $0.set(p, at: $1, effects: &$2) } }
        methods.add("clear", params: ["sessionId"]) { (routing, p: SessionQuery) in try routing.engine.perform { try $0.clear(p.sessionId, at: $1, effects: &$2) } }
        methods.add("listSessions") { routing in try routing.engine.perform { engine, _, _ in engine.listSessions() } }
        methods.add("takeStopMessage", params: ["sessionId"]) { (routing, p: SessionQuery) in
            try routing.engine.perform { try $0.takeStopMessage(p.sessionId, at: $1, effects: &$2) }
        }
        methods.add("applyInstructions", params: ["sessionId", "text"]) { (routing, p: InstructionsRequest) in
            try routing.engine.perform { try $0.applyInstructions(p.sessionId, text: p.text, at: $1, effects: &$2) }
        }
        methods.on(Topic.providerError) { (routing, e: ProviderError) in try routing.engine.perform { engine, now, _ in engine.noteError(e.providerKey, at: now) } }
        methods.on(Topic.providerSuccess) { (routing, e: ProviderSuccess) in try routing.engine.perform { engine, now, _ in engine.noteSuccess(e.providerKey, at: now) } }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Routing.pluginEntry() }
