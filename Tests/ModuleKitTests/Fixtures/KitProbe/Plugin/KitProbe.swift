// The kit probe: a test fixture (Tests/ModuleKitTests) that exercises the module kit's held
// calls, wake-up timer, restore, swap state, config warnings and event decoding.
import Foundation
import KitProbeCore
import ModHostPluginSDK
import ModuleKit
import Synchronization

final class KitProbe: EngineModule {
    static let id = "probe"
    static let version = "1.0.0"

    let engine: EngineHost<ProbeEngine>
    /// `probe.alarmWhenMoved` operations that read the time (and wait for the clock to move),
    /// and that returned (their wake-up armed).
    let movedReading = Atomic(0)
    let movedDone = Atomic(0)

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
        // An operation from a thread of the plugin's own (as an I/O result is) that reads the
        // time, then runs on until the clock moved (a `clock.advance` now under way, at most
        // 20 s real time), and sets an alarm `inMs` after the time it read: its wake-up is armed
        // after the clock moved. Answers at once; `probe.moved` counts the ones waiting for the
        // clock (`reading`) and the ones that returned (`done`), without the engine's lock.
        methods.add("alarmWhenMoved", params: ["name", "inMs"]) { (probe, p: MovedAlarm) in
            Thread.detachNewThread { [kit = probe.engine] in
                try? kit.perform { engine, now, effects in
                    probe.movedReading.add(1, ordering: .sequentiallyConsistent)
                    let deadline = Date().addingTimeInterval(20)
                    while kit.host.nowMs == now, Date() < deadline { usleep(1_000) }
                    engine.alarm(p.name, at: now + p.inMs, effects: &effects)
                }
                probe.movedDone.add(1, ordering: .sequentiallyConsistent)
            }
            return true
        }
        methods.add("moved") { probe in
            ["reading": probe.movedReading.load(ordering: .sequentiallyConsistent), "done": probe.movedDone.load(ordering: .sequentiallyConsistent)]
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
    struct MovedAlarm: Decodable, Sendable { let name: String; let inMs: Int64 }
    struct Poke: Decodable, Sendable { let count: Int }
    struct Raw: Decodable, Sendable { let json: String }
    struct Note: Decodable, Sendable { let name: String; let text: String }
}

@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { KitProbe.pluginEntry() }
