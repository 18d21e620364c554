import ModuleSupport

/// The kit probe's rules: what the kit must do for a module with a schedule. `probe.sleep` holds
/// a call until the host clock reaches it; `probe.alarm` stores an alarm that rings (an event)
/// when its time comes, across restarts and hot swaps; `probe.poke` events are counted.
public struct ProbeEngine: ModuleEngine {
    public typealias Effects = ModuleEffectList

    public struct State: Codable, Sendable {
        public var alarms: [String: Int64]
        public var pokes: Int
    }

    var sleepers: [(until: Int64, call: PendingCallID)] = []
    var alarms: [String: Int64] = [:]
    var pokes = 0

    public init() {}

    public var nextWakeMs: Int64? {
        (sleepers.map(\.until) + alarms.values).min()
    }

    public mutating func sleep(_ ms: Int64, _ call: PendingCallID, at now: Int64) throws(ModuleFailure) {
        guard ms >= 0 else { throw .invalidInput("ms must not be negative") }
        if ms == 0 { throw .reason("too_short", "a sleep of 0 ms is not held", ["askedMs": .int(ms)]) }
        sleepers.append((now + ms, call))
    }

    public mutating func alarm(_ name: String, at atMs: Int64, effects: inout Effects) {
        alarms[name] = atMs
        effects.put("alarm/\(name)", encoding: atMs)
    }

    public mutating func poke() { pokes += 1 }

    public func status() -> Status {
        Status(alarms: alarms, sleepers: sleepers.count, pokes: pokes)
    }

    public mutating func wake(at now: Int64, effects: inout Effects) {
        for sleeper in sleepers where sleeper.until <= now {
            effects.reply(sleeper.call, ["wokeAtMs": now])
        }
        sleepers.removeAll { $0.until <= now }
        for (name, atMs) in alarms.sorted(by: { $0.key < $1.key }) where atMs <= now {
            alarms[name] = nil
            effects.delete("alarm/\(name)")
            effects.publish("probe.rang", Rang(name: name, atMs: atMs, rangAtMs: now))
        }
    }

    public mutating func load(_ records: [(name: String, value: Int64)]) {
        for record in records { alarms[record.name] = record.value }
    }

    public func exportState() -> State { State(alarms: alarms, pokes: pokes) }
    public mutating func importState(_ state: State) {
        alarms = state.alarms
        pokes = state.pokes
    }
}

public struct Status: Codable, Sendable {
    public var alarms: [String: Int64]
    public var sleepers: Int
    public var pokes: Int
}

public struct Rang: Codable, Sendable {
    public var name: String
    public var atMs: Int64
    public var rangAtMs: Int64
}
