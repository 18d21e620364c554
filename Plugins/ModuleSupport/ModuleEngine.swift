/// A module's rules as the kit's `EngineHost` runs them: a value type holding the module's
/// state, changed one operation at a time, each given the host time and collecting its effects.
///
/// Beyond the operations of its own (called through `EngineHost.perform`), an engine says what
/// a hot swap carries over (`State`), and when it next has work of its own to do without being
/// called (`nextWakeMs`): the kit keeps a host timer armed for that time, from `start` (after a
/// restart, after a hot swap) and after every operation, and calls `wake` when it comes. An
/// engine with no schedule keeps the defaults (`nil`, nothing).
public protocol ModuleEngine: Sendable {
    /// What an operation collects: store writes, events, log lines, answers to held calls.
    associatedtype Effects: ModuleEffects
    /// What a hot swap hands from one version to the next.
    associatedtype State: Codable & Sendable

    /// Everything in memory, for the next version (after `stop`).
    func exportState() -> State
    /// Replaces everything in memory with what the previous version exported (before `start`).
    mutating func importState(_ state: State)

    /// The host time (ms) of the engine's next scheduled work, or `nil` for none. Read after
    /// every operation; the kit wakes the engine at that time (or soon after: the host clock's
    /// timers fire once it has passed).
    var nextWakeMs: Int64? { get }

    /// Does the work due at `nowMs` (which is at or after `nextWakeMs`; it may also come early
    /// after a schedule moved later: then do what is due, if anything). It must move
    /// `nextWakeMs` past `nowMs` or clear it.
    mutating func wake(at nowMs: Int64, effects: inout Effects)

    /// Whether every firing of the wake-up timer calls `wake`, even one before `nextWakeMs`
    /// (after the clock stepped back, the host moves its timers back by the step, so the timer
    /// fires early on the new time): for an engine that acts on clock steps (the task module's
    /// jobs restart their schedules after a large step back). Default false: early firings
    /// only re-arm the timer.
    var wakesOnEveryFiring: Bool { get }

    /// Held calls (`PendingCallID`s the engine was handed) that ended without the engine's
    /// answer: their caller's deadline passed, or the module is stopping (then the effects are
    /// not carried out). Forget them; an answer to one later is dropped. Default: nothing
    /// (answers to them are dropped anyway, but the engine keeps what it held for them).
    mutating func released(_ calls: [PendingCallID], effects: inout Effects)
}

extension ModuleEngine {
    public var nextWakeMs: Int64? { nil }
    public var wakesOnEveryFiring: Bool { false }
    public mutating func wake(at nowMs: Int64, effects: inout Effects) {}
    public mutating func released(_ calls: [PendingCallID], effects: inout Effects) {}
}
