import Synchronization

/// The calls currently handed to plugins, addressed by the `mh_call *` tokens plugins hold.
///
/// A token is a `TokenSlab` slot and generation, never a pointer: a plugin that completes a call
/// twice, or after it timed out, gets `MH_EXPIRED` instead of touching freed memory. A call is
/// open from the moment its `handle` is entered until it is completed or its deadline passes,
/// even while the plugin is still inside `handle`: its caller is never held past the deadline.
/// Every method may be called from any thread.
final class CallTable: Sendable {
    private struct State {
        var calls = TokenSlab<Call>()
        /// No open call's deadline is earlier (a lower bound: taking a call does not raise it),
        /// so the timeout sweep skips the table until then.
        var earliestDeadline = UInt64.max
    }
    private let state = Mutex(State())

    /// The process's call table: `mh_call *` tokens are global, like the host table.
    static let shared = CallTable()

    /// Registers a call about to be handed to a plugin and returns its token (never 0).
    func insert(_ call: Call) -> UInt64 {
        call.slot.openCalls.opened()
        return state.withLock { state in
            state.earliestDeadline = min(state.earliestDeadline, call.deadline)
            return state.calls.insert(call)
        }
    }

    /// The call if it is still open, left open (`call_remaining_ms`, `call_client`).
    func open(_ token: UInt64) -> Call? {
        state.withLock { $0.calls.value(token) }
    }

    /// Removes and returns the call if it is still open.
    func take(_ token: UInt64) -> Call? {
        let call = state.withLock { $0.calls.remove(token) }
        call?.slot.openCalls.closed()
        return call
    }

    /// Removes and returns the open calls whose deadline is at or before `now` (monotonic ns).
    func takeExpired(now: UInt64) -> [Call] {
        closing(state.withLock { state in
            guard state.earliestDeadline <= now else { return [] }
            var earliest = UInt64.max
            let expired = state.calls.removeAll { call in
                if call.deadline <= now { return true }
                earliest = min(earliest, call.deadline)
                return false
            }
            state.earliestDeadline = earliest
            return expired
        })
    }

    /// Removes and returns every open call of `slot` (used when a module is unloaded or the host stops).
    func takeAll(of slot: ModuleSlot) -> [Call] {
        closing(state.withLock { $0.calls.removeAll { $0.slot === slot } })
    }

    /// How many calls are open in all modules.
    var openCount: Int { state.withLock { $0.calls.count } }

    /// How many calls of `slot` are open (in a handle, or pending).
    func openCount(of slot: ModuleSlot) -> Int {
        slot.openCalls.count
    }

    /// Counts calls taken out of the table as no longer open in their module.
    private func closing(_ calls: [Call]) -> [Call] {
        for call in calls { call.slot.openCalls.closed() }
        return calls
    }
}
