import ModHostJSON
import ModuleSupport

/// The rules of `kitprobe`, the module the kit's end-to-end tests build (Fixtures/README.md):
/// calls held until a signal or their timeout, alarms on the host clock that survive a restart
/// and a hot swap, and JSON kept as text.
public struct ProbeEngine: ModuleEngine {
    public typealias Effects = ModuleEffectList

    /// A held `kitprobe.wait`.
    struct Waiter {
        let id: PendingCallID
        let key: String
        let clientID: UInt64?
        let sinceMs: Int64
        let untilMs: Int64
    }

    /// What a hot swap carries: the alarms and the kept JSON (held calls do not cross it: the
    /// kit fails them at `stop`).
    public struct State: Codable, Sendable {
        var alarms: [Int64]
        var kept: [String: String]
    }

    var waiters: [Waiter] = []
    /// Sorted; stored as `alarm/<ms>`.
    var alarms: [Int64] = []
    /// JSON texts by key, stored as `kept/<key>`.
    public private(set) var kept: [String: String] = [:]

    public init() {}

    public var nextWakeMs: Int64? {
        [alarms.first, waiters.map(\.untilMs).min()].compactMap { $0 }.min()
    }

    /// Alarms that came are published and forgotten; waits past their time fail.
    public mutating func wake(at nowMs: Int64, effects: inout Effects) {
        while let first = alarms.first, first <= nowMs {
            alarms.removeFirst()
            effects.delete("alarm/\(first)")
            effects.publish("kitprobe.alarm", ["atMs": .int(first), "firedAtMs": .int(nowMs)] as JSONValue)
        }
        for waiter in waiters where waiter.untilMs <= nowMs {
            effects.fail(waiter.id, .reason("wait_timeout", "no signal for \(waiter.key) within \(waiter.untilMs - waiter.sinceMs) ms",
                                            ["key": .string(waiter.key), "waitedMs": .int(nowMs - waiter.sinceMs)]))
        }
        waiters.removeAll { $0.untilMs <= nowMs }
    }

    /// `kitprobe.wait {key, timeoutMs}`: held until a signal for `key`, at most `timeoutMs` of host time.
    public mutating func wait(for key: String, _ id: PendingCallID, timeoutMs: Int64, clientID: UInt64?, at nowMs: Int64)
        throws(ModuleFailure)
    {
        guard timeoutMs > 0 else { throw .invalidInput("timeoutMs must be positive, got \(timeoutMs)") }
        waiters.append(Waiter(id: id, key: key, clientID: clientID, sinceMs: nowMs, untilMs: nowMs + timeoutMs))
    }

    /// `kitprobe.signal {key, value}` and `kitprobe.poke` events: answers every wait for `key`.
    public mutating func signal(_ key: String, value: JSONValue, at nowMs: Int64, effects: inout Effects) -> Int {
        let woken = waiters.filter { $0.key == key }
        for waiter in woken {
            var answer: [String: JSONValue] = ["key": .string(key), "value": value, "waitedMs": .int(nowMs - waiter.sinceMs)]
            if let client = waiter.clientID { answer["clientId"] = .uint(client) }
            effects.reply(waiter.id, JSONValue.object(answer))
        }
        waiters.removeAll { $0.key == key }
        return woken.count
    }

    /// `kitprobe.schedule {atMs}`: an alarm at that host time.
    public mutating func schedule(_ atMs: Int64, effects: inout Effects) -> [Int64] {
        if !alarms.contains(atMs) {
            alarms.append(atMs)
            alarms.sort()
            effects.put("alarm/\(atMs)", encoding: atMs)
        }
        return alarms
    }

    /// `kitprobe.keep {key, json}`: keeps the text as it is (checked by nobody: `raw` hands it back).
    public mutating func keep(_ key: String, json: String, effects: inout Effects) {
        kept[key] = json
        effects.put("kept/\(key)", encoding: json)
    }

    /// The records of the last run.
    public mutating func load(alarms: [Int64], kept: [(name: String, value: String)]) {
        self.alarms = alarms.sorted()
        for record in kept { self.kept[record.name] = record.value }
    }

    public func exportState() -> State { State(alarms: alarms, kept: kept) }

    public mutating func importState(_ state: State) {
        alarms = state.alarms
        kept = state.kept
    }
}
