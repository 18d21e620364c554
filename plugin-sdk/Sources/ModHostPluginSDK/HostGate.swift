import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps calls into the host table from happening after `destroy`.
///
/// Code outside the host's entries (tasks, other threads) may still hold a `PluginHost` when the
/// instance is destroyed. Every such call passes through `enter`/`leave`; `close` (from
/// `destroy`) refuses new calls and waits for the ones in flight, which are short host calls
/// that never wait for this instance.
final class HostGate: Sendable {
    private struct State {
        var closed = false
        var active = 0
    }

    private let state = Mutex(State())

    /// Registers a call into the host, or returns `false` once the gate is closed.
    func enter() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.active += 1
            return true
        }
    }

    func leave() {
        state.withLock { $0.active -= 1 }
    }

    /// Refuses new calls, then waits until the calls in flight have returned.
    func close() {
        state.withLock { $0.closed = true }
        while state.withLock({ $0.active }) > 0 {
            sched_yield()
        }
    }
}
