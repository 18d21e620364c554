// Health: provider-key health for modhost — cooldowns from rate-limit hints and a backoff
// chain, daily-quota and auth blacklists, a circuit breaker per key, series trips. The rules
// live in HealthCore (pure, unit-tested; HealthEngine+Kit.swift is how the module kit runs
// them); this file is the plugin around them, on ModuleKit. Docs: ../README.md.
//
// Time: every operation reads the host clock once and first applies the deadlines that have
// passed (HealthEngine.advance), so no timer is needed: a passing deadline changes nothing a
// caller could see before the next call, and is not announced.
import Foundation
import HealthCore
import ModHostPluginSDK
import ModuleContracts
import ModuleKit

final class Health: EngineModule {
    static let id = "health"
    static let version = "1.0.0"
    static let description = "Provider-key health: cooldowns, blacklists, circuit breaking, series trips"

    let engine: EngineHost<HealthEngine>

    init(host: PluginHost, config: RawJSON) throws {
        // TimeZone.current follows the process's TZ: "local midnight" is the host's.
        engine = EngineHost(host: host, HealthEngine(config: try host.readConfig(HealthConfig.self, from: config), timeZone: .current))
    }

    /// The `key/<providerKey>` and `series/<name>` records of the last run, read with the fast
    /// readers for the shape the module writes: 50,000 records take a fraction of a second.
    func restore(_ records: StoredRecords, into health: inout HealthEngine, at now: Int64, effects: inout Effects) throws {
        let keys = try records.read(StoreWrite.keyPrefix, as: KeyEntry.self, fast: KeyEntry.fromRecord)
        let series = try records.read(StoreWrite.seriesPrefix, as: SeriesTrip.self, fast: SeriesTrip.fromRecord)
        health.load(keys: keys, series: series, at: now, effects: &effects)
        engine.host.log(.info, "restored \(health.keyCount) of \(keys.count) stored keys, \(series.count) series records read")
    }

    static func register(_ methods: inout Methods<Health>) {
        methods.add("report") { (health, p: ProviderError) in try health.engine.perform { try $0.report(p, at: $1, effects: &$2) } }
        methods.add("reportSuccess") { (health, p: ProviderSuccess) in
            try health.engine.perform { try $0.reportSuccess(p.providerKey, at: $1, effects: &$2) }
        }
        methods.add("available") { (health, p: AvailableRequest) in try health.engine.perform { try $0.available(p, at: $1, effects: &$2) } }
        methods.add("status") { (health, p: KeyQuery) in try health.engine.perform { try $0.status(p, at: $1, effects: &$2) } }
        methods.add("snapshot") { health in try health.engine.perform { $0.snapshot(at: $1, effects: &$2) } }
        methods.add("reset") { (health, p: KeyQuery) in try health.engine.perform { try $0.reset(p, at: $1, effects: &$2) } }

        // Events: their topics are the module's subscriptions.
        methods.on(Topic.providerError) { (health, e: ProviderError) in _ = try health.engine.perform { try $0.report(e, at: $1, effects: &$2) } }
        methods.on(Topic.providerSuccess) { (health, e: ProviderSuccess) in
            _ = try health.engine.perform { try $0.reportSuccess(e.providerKey, at: $1, effects: &$2) }
        }
        methods.on(Topic.tokenReauthRequired) { (health, e: TokenEvent) in try health.engine.perform { try $0.reauthRequired(e, at: $1, effects: &$2) } }
        methods.on(Topic.tokenRefreshed) { (health, e: TokenEvent) in try health.engine.perform { try $0.tokenRefreshed(e, at: $1, effects: &$2) } }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Health.pluginEntry() }
