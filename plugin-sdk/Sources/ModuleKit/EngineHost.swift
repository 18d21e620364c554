import ModHostPluginSDK
import ModHostSupport
import ModuleSupport
import Synchronization

/// Runs a module's rules (its `ModuleEngine`, pure and unit-tested in the module's `Core`) for
/// the plugin around them, so the plugin is glue: each operation reads the host clock once, runs
/// on the engine under a lock, and has its effects carried out before the call answers (store
/// writes on disk, then events, log lines and answers to held calls, in the order the effects
/// give them).
///
///     methods.add("report") { (health, p: ProviderError) in
///         try health.engine.perform { engine, now, effects in try engine.report(p, at: now, effects: &effects) }
///     }
///
/// Beside `perform`: `perform(parking:)` holds a call open for the rules to answer later,
/// `start` restores the store's records (unless a hot swap handed the state over) and re-arms
/// the engine's wake-up timer, `stop` fails the calls still held, `exportState`/`importState`
/// carry the engine's state across a hot swap (`EngineModule` wires these to the plugin).
///
/// Errors: what the body throws propagates after the effects were applied (the engine may have
/// changed before it refused, say by expiring deadlines); a `ModuleFailureConvertible` error
/// becomes the `PluginError` its kind says (-32602, -32000 with `data.reason`, -32603).
///
/// Threads: any. Operations run one at a time (a `Mutex`), their effects applied inside it, so
/// store writes and events leave in the order the operations ran even when async handlers or
/// a concurrent plugin perform from several threads. The wake-up timer is armed inside it,
/// before the effects leave (a client told of work may move the clock at once); timers are
/// cancelled outside it (`timer_cancel` may wait for a firing that needs it).
public final class EngineHost<Engine: ModuleEngine>: Sendable {
    public let host: PluginHost
    let state: Mutex<EngineState<Engine>>
    let wake = Mutex(WakeTimer())
    /// In a class, not the closure itself: reading a closure of a generic type through
    /// `withLock`'s `inout` wraps it in two reabstraction thunks that are written back, so the
    /// stored closure grew by two thunks per read (each call got slower, ~1 µs per 1,000 calls).
    let outside = Mutex<OutsideHandler?>(nil)

    final class OutsideHandler: Sendable {
        let body: OutsideEffects
        init(_ body: @escaping OutsideEffects) { self.body = body }
    }

    /// Carries out, outside the engine's lock, what a module's effects ask beyond the kit's own
    /// (`carryOutside`).
    public typealias OutsideEffects = @Sendable (EngineHost<Engine>, Engine.Effects) -> Void

    /// Stale records deleted at start before the module is ready; the rest go in the background,
    /// `deletesPerSweep` at a time between calls (a store delete costs about 20 µs).
    public static var deletesAtStart: Int { 256 }
    public static var deletesPerSweep: Int { 128 }

    public init(host: PluginHost, _ engine: Engine) {
        self.host = host
        state = Mutex(EngineState(engine: engine))
    }

    /// Runs `body` on the engine at the host clock's time (`nowMs`, passed as the second
    /// argument), then carries out the effects it collected (the third), even when it throws.
    ///
    /// - Throws: what `body` throws, a `ModuleFailureConvertible` mapped to its `PluginError`.
    public func perform<R: Sendable>(_ body: (inout Engine, Int64, inout Engine.Effects) throws -> R) throws -> R {
        let (outcome, replaced, effects) = state.withLock { state -> (Result<R, any Error>, [TimerID], Engine.Effects) in
            let now = host.nowMs  // inside the lock: operations see time in the order they run
            var effects = Engine.Effects()
            let outcome = Result { try body(&state.engine, now, &effects) }
            let replaced = armWake(at: state.engine.nextWakeMs)  // before the effects leave (`armWake` says why)
            apply(effects, to: &state)
            return (outcome, replaced, effects)
        }
        cancelTimers(replaced)
        handOutside(effects)
        return try outcome.mapError(Self.mapped).get()
    }

    /// Like `perform`, for a call the rules may answer later: `reply` is held under a
    /// `PendingCallID` (the third argument) that the rules keep and answer with a `.reply` or
    /// `.fail` effect, in this operation or a later one (a wake-up, an event, another call).
    /// When `body` throws, the call is no longer held (the SDK fails it with the error).
    ///
    ///     methods.addPending("wait", params: ["key"]) { (queue, p: Wait, reply) in
    ///         try queue.engine.perform(parking: reply) { engine, now, id, effects in
    ///             engine.wait(for: p.key, id, at: now, effects: &effects)
    ///         }
    ///     }
    public func perform<R: Sendable>(
        parking reply: CallReply, _ body: (inout Engine, Int64, PendingCallID, inout Engine.Effects) throws -> R
    ) throws -> R {
        let (outcome, replaced, effects) = state.withLock { state -> (Result<R, any Error>, [TimerID], Engine.Effects) in
            let now = host.nowMs
            var effects = Engine.Effects()
            pruneParked(&state, effects: &effects)
            let id = PendingCallID(state.nextParked)
            state.nextParked &+= 1
            state.parked[id] = reply
            let outcome = Result { try body(&state.engine, now, id, &effects) }
            if case .failure = outcome { state.parked[id] = nil }
            let replaced = armWake(at: state.engine.nextWakeMs)
            apply(effects, to: &state)
            return (outcome, replaced, effects)
        }
        cancelTimers(replaced)
        handOutside(effects)
        return try outcome.mapError(Self.mapped).get()
    }

    /// Hands every operation's effects (calls, wake-ups, the restore at start) to `handler`
    /// once the kit applied its own and released the engine's lock: for effects only the plugin
    /// can carry out, which a core puts in its `Effects` beside the kit's (an HTTP request, a
    /// file to write, a lock to take). The handler runs on the thread of the operation; it may
    /// `perform` again (an I/O result entering the engine as an operation), and should hand
    /// slow work to a queue of its own. Set it once, in the plugin's `init`.
    ///
    ///     engine.carryOutside { [io] engine, effects in io.carryOut(effects.requests, for: engine) }
    public func carryOutside(_ handler: @escaping OutsideEffects) {
        let box = OutsideHandler(handler)
        outside.withLock { $0 = box }
    }

    /// Calls the outside handler, if any, with `effects` (outside the engine's lock).
    func handOutside(_ effects: Engine.Effects?) {
        guard let effects, let handler = outside.withLock({ $0 }) else { return }
        handler.body(self, effects)
    }

    /// Reads the engine without changing it (and without effects).
    public func read<R: Sendable>(_ body: (Engine) throws -> R) rethrows -> R {
        try state.withLock { try body($0.engine) }
    }

    /// How many calls the rules hold open now (for tests and the log).
    public var parkedCalls: Int { state.withLock { $0.parked.count } }

    /// Forgets held calls that are over without the rules' answer (their caller's deadline
    /// passed), telling the rules (`released`), once the number held has doubled since the last
    /// look: amortized constant work per parked call.
    private func pruneParked(_ state: inout EngineState<Engine>, effects: inout Engine.Effects) {
        guard state.parked.count >= state.pruneAt else { return }
        let over = state.parked.filter { $0.value.isOver }.map(\.key)
        for id in over { state.parked[id] = nil }
        if !over.isEmpty { state.engine.released(over, effects: &effects) }
        state.pruneAt = max(64, state.parked.count * 2)
    }

    static func mapped(_ error: any Error) -> any Error {
        (error as? any ModuleFailureConvertible)?.moduleFailure.pluginError ?? error
    }
}

/// What the lock guards.
struct EngineState<Engine: ModuleEngine> {
    var engine: Engine
    /// Whether the engine holds the store's records, or a state a hot swap handed over.
    var loaded = false
    /// Records found stale at start and not deleted yet.
    var stale = StaleRecords()
    /// Calls held for the rules to answer.
    var parked: [PendingCallID: CallReply] = [:]
    /// Ids start at a random point for each instance, so an id a previous instance handed out
    /// (and its engine exported across a hot swap) never names a call of this one.
    var nextParked = UInt64.random(in: 1...(1 << 62))
    /// How many held calls make `perform(parking:)` look for ones that are over.
    var pruneAt = 64
}

extension ModuleFailure: PluginErrorConvertible {
    /// The SDK error callers see (MODULES.md): -32602, -32000 with `data.reason`, or -32603,
    /// the failure's fields in `data`.
    public var pluginError: PluginError {
        switch kind {
        case .invalidInput:
            fields.isEmpty ? .invalidParams(message) : PluginError(code: .invalidParams, message, data: JSONValue.object(fields))
        case .failed(let reason):
            .reason(reason, message, fields)
        case .internalError:
            fields.isEmpty ? .internalError(message) : PluginError(code: .internalError, message, data: JSONValue.object(fields))
        }
    }
}
