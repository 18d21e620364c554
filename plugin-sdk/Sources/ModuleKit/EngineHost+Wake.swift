import ModHostPluginSDK
import ModHostSupport
import ModuleSupport

/// The one host timer an engine host keeps armed for the engine's `nextWakeMs`.
///
/// Moving the wake-up earlier arms a new timer (and cancels the old one); moving it later, or
/// clearing it, keeps the armed one, which then fires early, finds nothing due and arms the
/// next: at most one extra firing per change, and no cancel on the common path. A firing of a
/// timer that was replaced (its `generation` is old) does nothing.
///
/// `armedAt` must never be earlier than the armed timer's real due time (later arms trust it):
/// the delay is counted from the clock as it is when the timer starts, not from the time the
/// operation ran at. An operation from a plugin's own thread (an I/O result) may run while
/// `clock.advance` moves the clock on another; a delay counted from the operation's time then
/// put the timer past the advance's end, and the wake-up never came.
struct WakeTimer {
    var armedAt: Int64?
    var timer: TimerID?
    var generation: UInt64 = 0
}

extension EngineHost {
    /// Arms the wake-up timer for `wakeMs` if no timer comes first, and returns the timers to
    /// cancel (`cancelTimers`) once the engine's lock is released: the one it replaced, any it
    /// started late (`startTimer`), and its own if a `stop` superseded it meanwhile.
    ///
    /// Call under the engine's lock, before the operation's effects leave: a client told of
    /// work (an agent's assignment, an answer, an event) may move the manual clock at once. A
    /// timer armed after that move was counted from the moved clock and waited for the next
    /// one, which never came (node's attempt timeouts hung that way under load). Starting a
    /// timer never waits, so it is safe under the lock; cancelling one may wait for its firing,
    /// which takes the lock, so nothing is cancelled here.
    func armWake(at wakeMs: Int64?) -> [TimerID] {
        guard let wakeMs else { return [] }
        let plan: (generation: UInt64, replaced: TimerID?)? = wake.withLock { wake in
            if let armed = wake.armedAt, armed <= wakeMs { return nil }
            wake.generation += 1
            wake.armedAt = wakeMs
            defer { wake.timer = nil }
            return (wake.generation, wake.timer)
        }
        guard let plan else { return [] }
        var cancel = plan.replaced.map { [$0] } ?? []
        do {
            let timer = try startTimer(dueAt: wakeMs, late: &cancel) { [self] in fire(plan.generation) }
            let superseded = wake.withLock { wake in
                guard wake.generation == plan.generation else { return true }
                wake.timer = timer
                return false
            }
            if superseded { cancel.append(timer) }
        } catch {
            wake.withLock { if $0.generation == plan.generation { $0.armedAt = nil } }
            host.log(.warning, "could not arm the wake-up timer (the next call retries): \(error)")
        }
        return cancel
    }

    /// Cancels what `armWake` returned. Call outside the engine's lock.
    func cancelTimers(_ timers: [TimerID]) {
        for timer in timers { host.cancelTimer(timer) }
    }

    /// Starts a one-shot host timer due at host time `dueMs` (at once if it has passed).
    ///
    /// The host takes a delay and counts it from its clock when the timer starts, so the delay
    /// is counted from a reading taken just before; if the clock moved between that reading and
    /// the start (a `clock.advance` on another thread), the timer may be due late, past the
    /// advance's end, and is started again. Early is harmless (`fire` finds nothing due and
    /// arms the next); late is not (on the manual clock it waits for the next advance).
    ///
    /// The late timers started before the one returned go to `late`, for the caller to cancel
    /// once the engine's lock is released (cancelling waits for a firing, which may wait for
    /// the lock); one that fires first finds nothing due and arms the next.
    private func startTimer(dueAt dueMs: Int64, late: inout [TimerID], _ body: @escaping @Sendable () -> Void) throws -> TimerID {
        var tries = 0
        while true {
            let before = host.nowMs
            let delay = max(0, HostTime.elapsed(from: before, to: dueMs))
            let timer = try host.startTimer(after: .milliseconds(delay), body)
            tries += 1
            // Bounded: the real clock moves on its own; a few ms late there is harmless.
            if host.nowMs <= before || tries >= 8 { return timer }
            late.append(timer)
        }
    }

    /// A wake-up timer fired: wakes the engine if its time has come (or at every firing, for
    /// an engine that `wakesOnEveryFiring`), then arms the next.
    private func fire(_ generation: UInt64) {
        let current = wake.withLock { wake in
            guard wake.generation == generation else { return false }
            wake.armedAt = nil
            wake.timer = nil
            return true
        }
        guard current else { return }
        let (replaced, effects) = state.withLock { state -> ([TimerID], Engine.Effects?) in
            let now = host.nowMs  // inside the lock, as in `perform`: operations see time in the order they run
            guard let due = state.engine.nextWakeMs, due <= now || state.engine.wakesOnEveryFiring else {
                return (armWake(at: state.engine.nextWakeMs), nil)
            }
            var effects = Engine.Effects()
            state.engine.wake(at: now, effects: &effects)
            var replaced: [TimerID] = []
            if let next = state.engine.nextWakeMs, next <= now {
                // A wake that leaves work due would fire again at once, forever: wait for a call.
                host.log(.error, "the engine is still due at \(next) after its wake-up at \(now); the next call re-arms it")
            } else {
                replaced = armWake(at: state.engine.nextWakeMs)  // before the effects leave, as in `perform`
            }
            apply(effects, to: &state)
            return (replaced, effects)
        }
        cancelTimers(replaced)
        handOutside(effects)
    }

    /// The host cancelled the instance's timers (it stopped): none is armed any more.
    func forgetWake() {
        wake.withLock { wake in
            wake = WakeTimer(generation: wake.generation + 1)
        }
    }
}
