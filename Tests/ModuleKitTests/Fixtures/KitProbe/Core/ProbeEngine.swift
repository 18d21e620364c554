import ModuleSupport

/// The kit probe's rules: what the kit must do for a module with a schedule. `probe.sleep` holds
/// a call until the host clock reaches it; `probe.alarm` stores an alarm that rings (an event)
/// when its time comes, across restarts and hot swaps; `probe.poke` events are counted.
public struct ProbeEngine: ModuleEngine {
    public typealias Effects = ModuleEffectList

    /// Everything in memory, the held calls' ids included (a new instance never hands out an id
    /// the old one did, so an old sleeper's answer is dropped, not given to another caller).
    public struct State: Codable, Sendable {
        public var alarms: [String: Int64]
        public var notes: [String: String]
        public var pokes: Int
        public var sleepers: [Sleeper]
    }

    public struct Sleeper: Codable, Sendable {
        var until: Int64
        var call: PendingCallID
    }

    var sleepers: [Sleeper] = []
    var alarms: [String: Int64] = [:]
    var notes: [String: String] = [:]
    var pokes = 0
    /// Config `keepReleased`: keep the sleepers of calls that ended unanswered, as an engine
    /// that does not implement `released` does.
    let keepReleased: Bool

    public init(keepReleased: Bool = false) {
        self.keepReleased = keepReleased
    }

    public var nextWakeMs: Int64? {
        (sleepers.map(\.until) + alarms.values).min()
    }

    public mutating func sleep(_ ms: Int64, _ call: PendingCallID, at now: Int64) throws(ModuleFailure) {
        guard ms >= 0 else { throw .invalidInput("ms must not be negative") }
        if ms == 0 { throw .reason("too_short", "a sleep of 0 ms is not held", ["askedMs": .int(ms)]) }
        sleepers.append(Sleeper(until: now + ms, call: call))
    }

    public mutating func alarm(_ name: String, at atMs: Int64, effects: inout Effects) {
        alarms[name] = atMs
        effects.put("alarm/\(name)", encoding: atMs)
    }

    /// A note under `alarm/note/<name>`: inside the alarms' prefix, read as another type.
    public mutating func note(_ name: String, _ text: String, effects: inout Effects) {
        notes[name] = text
        effects.put("alarm/note/\(name)", encoding: text)
    }

    public mutating func poke() { pokes += 1 }

    public mutating func released(_ calls: [PendingCallID], effects: inout Effects) {
        if !keepReleased { sleepers.removeAll { calls.contains($0.call) } }
    }

    public func status() -> Status {
        Status(alarms: alarms, notes: notes, sleepers: sleepers.count, pokes: pokes)
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

    public mutating func load(alarms: [(name: String, value: Int64)], notes: [(name: String, value: String)]) {
        for record in alarms { self.alarms[record.name] = record.value }
        for record in notes { self.notes[record.name] = record.value }
    }

    public func exportState() -> State { State(alarms: alarms, notes: notes, pokes: pokes, sleepers: sleepers) }
    public mutating func importState(_ state: State) {
        alarms = state.alarms
        notes = state.notes
        pokes = state.pokes
        sleepers = state.sleepers
    }
}

public struct Status: Codable, Sendable {
    public var alarms: [String: Int64]
    public var notes: [String: String]
    public var sleepers: Int
    public var pokes: Int
}

public struct Rang: Codable, Sendable {
    public var name: String
    public var atMs: Int64
    public var rangAtMs: Int64
}
