import ModHostPluginSDK
import ModuleSupport

/// The one host timer an engine host keeps armed for the engine's `nextWakeMs`.
///
/// Moving the wake-up earlier arms a new timer (and cancels the old one); moving it later, or
/// clearing it, keeps the armed one, which then fires early, finds nothing due and arms the
/// next: at most one extra firing per change, and no cancel on the common path. A firing of a
/// timer that was replaced (its `generation` is old) does nothing.
struct WakeTimer {
    var armedAt: Int64?
    var timer: TimerID?
    var generation: UInt64 = 0
}

extension EngineHost {
    /// Arms the wake-up timer for `wakeMs` if no timer comes first; `now` is the host time the
    /// operation ran at. Call outside the engine's lock.
    func armWake(at wakeMs: Int64?, now: Int64) {
        guard let wakeMs else { return }
        let plan: (generation: UInt64, replaced: TimerID?)? = wake.withLock { wake in
            if let armed = wake.armedAt, armed <= wakeMs { return nil }
            wake.generation += 1
            wake.armedAt = wakeMs
            defer { wake.timer = nil }
            return (wake.generation, wake.timer)
        }
        guard let plan else { return }
        if let replaced = plan.replaced { host.cancelTimer(replaced) }
        let delay = max(0, wakeMs.subtractingReportingOverflow(now).partialValue)
        do {
            let timer = try host.startTimer(after: .milliseconds(delay)) { [self] in fire(plan.generation) }
            let superseded = wake.withLock { wake in
                guard wake.generation == plan.generation else { return true }
                wake.timer = timer
                return false
            }
            if superseded { host.cancelTimer(timer) }
        } catch {
            wake.withLock { if $0.generation == plan.generation { $0.armedAt = nil } }
            host.log(.warning, "could not arm the wake-up timer (the next call retries): \(error)")
        }
    }

    /// A wake-up timer fired: wakes the engine if its time has come, then arms the next.
    private func fire(_ generation: UInt64) {
        let current = wake.withLock { wake in
            guard wake.generation == generation else { return false }
            wake.armedAt = nil
            wake.timer = nil
            return true
        }
        guard current else { return }
        let now = host.nowMs
        let (next, effects) = state.withLock { state -> (Int64?, Engine.Effects?) in
            guard let due = state.engine.nextWakeMs, due <= now else { return (state.engine.nextWakeMs, nil) }
            var effects = Engine.Effects()
            state.engine.wake(at: now, effects: &effects)
            apply(effects, to: &state)
            return (state.engine.nextWakeMs, effects)
        }
        handOutside(effects)
        if let next, next <= now {
            // A wake that leaves work due would fire again at once, forever: wait for a call.
            host.log(.error, "the engine is still due at \(next) after its wake-up at \(now); the next call re-arms it")
            return
        }
        armWake(at: next, now: now)
    }

    /// The host cancelled the instance's timers (it stopped): none is armed any more.
    func forgetWake() {
        wake.withLock { wake in
            wake = WakeTimer(generation: wake.generation + 1)
        }
    }
}
