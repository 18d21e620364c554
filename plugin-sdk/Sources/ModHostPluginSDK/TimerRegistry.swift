import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The closures of an instance's running timers, by host timer id.
///
/// The host's `user` pointer for every timer is this registry (alive until `destroy`, after
/// which no timer fires), so no closure is ever owned by C and none can leak or be freed
/// twice. Threads: `fire` runs serialized with the instance's entries; `start`/`cancel` may
/// come from any thread.
final class TimerRegistry: Sendable {
    private struct Entry {
        let fire: @Sendable () -> Void
        let repeats: Bool
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        /// `timer_start` calls whose id is not yet known (see `fire`).
        var starting = 0
    }

    private let state = Mutex(State())

    /// Starts a timer through `start` (which calls the host) and remembers its closure.
    func start(repeats: Bool, fire: @escaping @Sendable () -> Void, _ start: () -> UInt64) -> UInt64 {
        state.withLock { $0.starting += 1 }
        let id = start()
        state.withLock { state in
            if id != 0 { state.entries[id] = Entry(fire: fire, repeats: repeats) }
            state.starting -= 1
        }
        return id
    }

    /// Runs the closure of timer `id`; a one-shot timer is forgotten first.
    func fire(_ id: UInt64) {
        while true {
            let (entry, retry): (Entry?, Bool) = state.withLock { state in
                if let entry = state.entries[id] {
                    if !entry.repeats { state.entries[id] = nil }
                    return (entry, false)
                }
                // A timer started on another thread can fire before `start` has stored it.
                return (nil, state.starting > 0)
            }
            if let entry {
                entry.fire()
                return
            }
            guard retry else { return }
            sched_yield()
        }
    }

    /// Forgets timer `id`; returns whether it was running.
    func remove(_ id: UInt64) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: id) != nil }
    }

    /// Forgets every timer (the host cancels an instance's timers when it stops).
    func removeAll() {
        let entries = state.withLock { state in
            let entries = state.entries
            state.entries = [:]
            return entries
        }
        _ = entries  // released outside the lock: a closure's captures may run deinit code
    }
}
