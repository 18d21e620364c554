import ModHostPluginSDK
import ModHostSupport
import ModuleSupport

extension EngineHost {
    /// Starts the engine: reads the store into it with `restore` unless it already holds a
    /// state (a hot swap handed one over, or this instance ran before: a failed swap starts the
    /// old instance again), then re-arms what timers die at `stop`: the wake-up timer for the
    /// engine's `nextWakeMs`, and the background deletion of stale records.
    ///
    /// `restore` reads records by prefix (`StoredRecords`) and loads them into the engine at the
    /// host time. Its effects are carried out as an operation's are, except that only the first
    /// `deletesAtStart` deletes (records the engine found stale, and records that could not be
    /// read) run before the module is ready; the rest are deleted `deletesPerSweep` at a time by
    /// a host timer between calls (at once on the real clock; at the next clock move on a manual
    /// one), each skipped if an operation's effects wrote that record again meanwhile (a direct
    /// `host.store` write is not seen). Records still waiting at a hot swap or shutdown are found
    /// stale again at the next start.
    public func start(restore: (StoredRecords, inout Engine, Int64, inout Engine.Effects) throws -> Void) throws {
        forgetWake()  // a timer armed after the last stop's cancel died with it
        let records = StoredRecords(host: host)
        let store = host.store
        let (replaced, waiting, effects) = try state.withLock { state throws -> ([TimerID], Int, Engine.Effects?) in
            let now = host.nowMs
            var restored: Engine.Effects?
            var replaced: [TimerID] = []
            if !state.loaded {
                var effects = Engine.Effects()
                try restore(records, &state.engine, now, &effects)
                // Unreadable records wait with the stale ones, so a record restore writes again
                // (through its effects) is kept; the first `deletesAtStart` deletes run now.
                for key in records.unreadableKeys { state.stale.add(key) }
                replaced = armWake(at: state.engine.nextWakeMs)
                let left = apply(effects, to: &state, deleteBudget: Self.deletesAtStart) ?? 0
                for key in state.stale.nextBatch(left) { try? store.delete(key) }
                state.loaded = true
                restored = effects
            } else {
                replaced = armWake(at: state.engine.nextWakeMs)
            }
            return (replaced, state.stale.count, restored)
        }
        cancelTimers(replaced)
        handOutside(effects)
        records.logUnreadable()
        if waiting > 0 {
            host.log(.info, "deleting \(waiting) more stale records in the background")
            scheduleSweep()
        }
    }

    /// Stops the engine: the calls it still holds fail (`module_stopped`), and the host has
    /// cancelled the instance's timers.
    public func stop() {
        forgetWake()
        let parked = state.withLock { state in
            defer { state.parked = [:] }
            if !state.parked.isEmpty {
                var effects = Engine.Effects()  // what `released` asks for is not carried out: the module stopped
                state.engine.released(Array(state.parked.keys), effects: &effects)
            }
            return Array(state.parked.values)
        }
        for reply in parked {
            reply.fail(PluginError.reason("module_stopped", "module \(host.moduleID) stopped before it answered the call"))
        }
    }

    /// The engine's state for the next version of the module (after `stop`).
    public func exportState() -> Engine.State {
        state.withLock { state in
            state.stale.removeAll()
            return state.engine.exportState()
        }
    }

    /// Takes over the state version `version` exported (before `start`, which then reads no store).
    public func importState(_ imported: Engine.State, from version: String) {
        state.withLock { state in
            state.engine.importState(imported)
            state.loaded = true
        }
        host.log(.info, "took over the state of version \(LogText.quote(version))")
    }

    // MARK: - Stale records

    private func scheduleSweep() {
        do {
            try host.startTimer(after: .zero) { [self] in sweepStale() }
        } catch {
            host.log(.warning, "stale records stay in the store until the next start: \(error)")
        }
    }

    /// One firing of the deferred deletion: between calls (the host serializes an instance's
    /// timers with its calls), under the engine's lock, so no operation writes a record between
    /// the check and the delete.
    private func sweepStale() {
        let store = host.store
        let remaining = state.withLock { state -> Int in
            for key in state.stale.nextBatch(Self.deletesPerSweep) { try? store.delete(key) }
            return state.stale.count
        }
        if remaining > 0 {
            scheduleSweep()
        } else {
            host.log(.info, "deleted the stale records")
        }
    }
}
