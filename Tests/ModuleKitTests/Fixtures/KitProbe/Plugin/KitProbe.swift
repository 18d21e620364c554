// The kit probe: a test fixture (Tests/ModuleKitTests) that exercises the module kit's held
// calls, wake-up timer, restore, swap state, config warnings and event decoding.
import KitProbeCore
import ModHostPluginSDK
import ModuleKit

final class KitProbe: EngineModule {
    static let id = "probe"
    static let version = "1.0.0"

    let engine: EngineHost<ProbeEngine>

    struct Config: Decodable, Sendable { var keepReleased: Bool? }

    init(host: PluginHost, config: RawJSON) throws {
        let config = try host.readConfig(Config.self, from: config)
        engine = EngineHost(host: host, ProbeEngine(keepReleased: config.keepReleased ?? false))
    }

    func restore(_ records: StoredRecords, into probe: inout ProbeEngine, at now: Int64, effects: inout ModuleEffectList) throws {
        probe.load(alarms: try records.readNamed("alarm/", as: Int64.self), notes: try records.readNamed("alarm/note/", as: String.self))
    }

    static func register(_ methods: inout Methods<KitProbe>) {
        methods.addPending("sleep", params: ["ms"]) { (probe, p: Sleep, reply) in
            try probe.engine.perform(parking: reply) { engine, now, id, _ in try engine.sleep(p.ms, id, at: now) }
        }
        methods.add("alarm", params: ["name", "atMs"]) { (probe, p: Alarm) in
            try probe.engine.perform { engine, _, effects in engine.alarm(p.name, at: p.atMs, effects: &effects) }
        }
        methods.add("note", params: ["name", "text"]) { (probe, p: Note) in
            try probe.engine.perform { engine, _, effects in engine.note(p.name, p.text, effects: &effects) }
        }
        methods.add("status") { probe in probe.engine.read { $0.status() } }
        methods.add("refuse") { (_: KitProbe) throws -> Bool in throw ModuleFailure.reason("refused", "refused on purpose", ["retryAfterMs": 5]) }
        methods.add("raw", params: ["json"]) { (_, p: Raw) in RawJSON(p.json) }  // handed back as it is
        methods.add("whoAsked") { _ in CallInfo.current?.clientID }
        methods.on("probe.poke") { (probe, _: Poke) in try probe.engine.perform { engine, _, _ in engine.poke() } }
        methods.on("probe.ping.*") { (probe, data: RawJSON) in try probe.engine.host.publish("probe.pong", json: data) }
    }

    struct Sleep: Decodable, Sendable { let ms: Int64 }
    struct Alarm: Decodable, Sendable { let name: String; let atMs: Int64 }
    struct Poke: Decodable, Sendable { let count: Int }
    struct Raw: Decodable, Sendable { let json: String }
    struct Note: Decodable, Sendable { let name: String; let text: String }
}

@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { KitProbe.pluginEntry() }
