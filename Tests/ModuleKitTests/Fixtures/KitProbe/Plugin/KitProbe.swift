// kitprobe: a module on the kit for the kit's own end-to-end tests (Fixtures/README.md). Built
// by the tests in a copy of the repository, never shipped.
import KitProbeCore
import ModHostPluginSDK
import ModuleKit

final class KitProbe: EngineModule {
    static let id = "kitprobe"
    static let version = "1.0.0"

    struct Config: Decodable {
        var defaultTimeoutMs: Int64?
    }

    let engine: EngineHost<ProbeEngine>
    let defaultTimeoutMs: Int64

    init(host: PluginHost, config: RawJSON) throws {
        defaultTimeoutMs = try host.readConfig(Config.self, from: config).defaultTimeoutMs ?? 60_000
        engine = EngineHost(host: host, ProbeEngine())
    }

    func restore(_ records: StoredRecords, into probe: inout ProbeEngine, at now: Int64, effects: inout ModuleEffectList) throws {
        probe.load(alarms: try records.read("alarm/", as: Int64.self), kept: try records.readNamed("kept/", as: String.self))
    }

    struct Wait: Decodable, Sendable { let key: String; let timeoutMs: Int64? }
    struct Signal: Decodable, Sendable { let key: String; let value: JSONValue? }
    struct Keep: Decodable, Sendable { let key: String; let json: String }
    struct Key: Decodable, Sendable { let key: String }
    struct At: Decodable, Sendable { let atMs: Int64 }

    static func register(_ methods: inout Methods<KitProbe>) {
        methods.addPending("wait", params: ["key", "timeoutMs"]) { (probe, p: Wait, reply) in
            let client = reply.info.clientID
            try probe.engine.perform(parking: reply) { engine, now, id, _ in
                try engine.wait(for: p.key, id, timeoutMs: p.timeoutMs ?? probe.defaultTimeoutMs, clientID: client, at: now)
            }
        }
        methods.add("signal", params: ["key", "value"]) { (probe, p: Signal) in
            try probe.engine.perform { ["woke": .int(Int64($0.signal(p.key, value: p.value ?? .null, at: $1, effects: &$2)))] as JSONValue }
        }
        methods.add("schedule", params: ["atMs"]) { (probe, p: At) in try probe.engine.perform { $0.schedule(p.atMs, effects: &$2) } }
        methods.add("keep", params: ["key", "json"]) { (probe, p: Keep) in try probe.engine.perform { $0.keep(p.key, json: p.json, effects: &$2) } }
        methods.add("raw", params: ["key"]) { (probe, p: Key) -> RawJSON in
            guard let text = probe.engine.read({ $0.kept[p.key] }) else { throw PluginError.reason("not_kept", "nothing is kept under \(p.key)") }
            return RawJSON(text)
        }
        methods.add("whoAsked") { _ in CallInfo.current?.clientID }
        methods.add("held") { probe in probe.engine.parkedCalls }

        methods.on("kitprobe.poke") { (probe, e: Signal) in
            _ = try probe.engine.perform { $0.signal(e.key, value: e.value ?? .null, at: $1, effects: &$2) }
        }
        methods.on("kitprobe.ping.*") { (probe, data: RawJSON) in try probe.engine.host.publish("kitprobe.pong", json: data) }
    }
}

@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { KitProbe.pluginEntry() }
