import Dispatch
import Synchronization

/// Loads in progress, and the clients' calls to module ids not known yet that wait for them.
///
/// A client that pipelines `modules.load` and a call to the new module cannot know the module's
/// id is taken until the file is open, so while any load is in progress (a `modules.load` from
/// the moment it is read, or a load the plugin directory watcher handed to the control queue)
/// a call to an unknown module waits here instead of failing with -32601. When a load finishes,
/// the waiting calls whose module is now loaded go to its mailbox, in the order they were read;
/// once no load is in progress, the rest fail with -32601 as they would have at once. With no
/// load in progress nothing waits: the reader thread pays one atomic load per call.
///
/// Calls to a module that is loaded but being swapped wait in its mailbox instead (see
/// `Registry+Swap`). Calls modules make to each other are not held here.
///
/// Thread safety: `begin`/`end` come from the reader thread and the control queue, `park` from
/// the reader thread, `takeExpired` from the sweeper; all state is under one lock.
final class PendingLoads: Sendable {
    private struct Waiting {
        let method: String
        let moduleID: String
        let reply: ReplyTarget
        let id: [UInt8]?
        let params: [UInt8]?
        let deadline: CallDeadline
    }

    private struct State {
        var loads = 0
        var waiting: [Waiting] = []
    }

    private let state = Mutex(State())
    /// Loads in progress plus calls waiting; nonzero whenever `park` must take the lock.
    private let active = Atomic<Int>(0)
    private unowned let runtime: HostRuntime

    init(runtime: HostRuntime) {
        self.runtime = runtime
    }

    /// A load starts (counted until the matching `end`).
    func begin() {
        state.withLock { state in
            state.loads += 1
            active.add(1, ordering: .sequentiallyConsistent)
        }
    }

    /// A load finished, loaded or not: the calls waiting for a module now loaded are posted to
    /// it, in order; when no load is left, the others fail with -32601.
    func end() {
        var failed: [(Waiting, RPCError)] = []
        state.withLock { state in
            state.loads -= 1
            active.subtract(1, ordering: .sequentiallyConsistent)
            var kept: [Waiting] = []
            for call in state.waiting {
                if runtime.registry.slot(call.moduleID) != nil {
                    // Posted under the lock: a later call for the same module, routed by the
                    // reader once this list no longer holds any, lands behind it.
                    if let error = post(call) { failed.append((call, error)) }
                } else if state.loads > 0 {
                    kept.append(call)
                } else {
                    failed.append((call, .methodNotFound(call.method, "no module \(call.moduleID) is loaded")))
                }
            }
            active.subtract(state.waiting.count - kept.count, ordering: .sequentiallyConsistent)
            state.waiting = kept
        }
        for (call, error) in failed { answer(call, error) }
    }

    /// Holds a client's call while a load is in progress and its module is not known yet, or
    /// while earlier calls to the same module still wait (so that order holds). Returns false
    /// when the call is to be routed as usual. Reader thread.
    @inline(__always)
    func park(_ method: String, reply: ReplyTarget, id: UnsafeBufferPointer<UInt8>?, params: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard active.load(ordering: .sequentiallyConsistent) > 0 else { return false }
        return parkSlowly(method, reply: reply, id: id, params: params)
    }

    private func parkSlowly(_ method: String, reply: ReplyTarget, id: UnsafeBufferPointer<UInt8>?,
                            params: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let moduleID = runtime.moduleID(of: method) else { return false }
        return state.withLock { state in
            let behind = state.waiting.contains { $0.moduleID == moduleID }
            guard behind || (state.loads > 0 && runtime.registry.slot(moduleID) == nil) else { return false }
            reply.client?.callStarted()
            state.waiting.append(Waiting(
                method: method, moduleID: moduleID, reply: reply, id: id.map(Array.init), params: params.map(Array.init),
                deadline: runtime.defaultDeadline()))
            active.add(1, ordering: .sequentiallyConsistent)
            return true
        }
    }

    /// Fails the waiting calls past their deadline with -32004 (the sweeper, every 50 ms).
    func takeExpired(now: UInt64) {
        guard active.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let expired = state.withLock { state in
            let (late, kept) = (state.waiting.filter { $0.deadline.nanoseconds <= now }, state.waiting.filter { $0.deadline.nanoseconds > now })
            active.subtract(late.count, ordering: .sequentiallyConsistent)
            state.waiting = kept
            return late
        }
        for call in expired {
            answer(call, RPCError(
                code: RPCError.timedOutCode,
                message: "Call timed out: \(call.method) was not completed within \(call.deadline.milliseconds) ms (\(call.deadline.origin)); it was waiting for a module load to finish"))
        }
    }

    /// At shutdown, after the control queue drained: whatever still waits (a load stuck in a
    /// plugin's `init`) fails with -32601.
    func abandon() {
        let left = state.withLock { state in
            let left = state.waiting
            active.subtract(left.count, ordering: .sequentiallyConsistent)
            state.waiting = []
            return left
        }
        for call in left {
            answer(call, .methodNotFound(call.method, "no module \(call.moduleID) is loaded; the host shut down before the load finished"))
        }
    }

    /// Routes a waiting call to its module now that it is loaded; the error if it cannot be.
    private func post(_ waiting: Waiting) -> RPCError? {
        switch runtime.route(waiting.method) {
        case .failure(let error):
            return error
        case .success(let target):
            let make = { (id: UnsafeBufferPointer<UInt8>?, params: UnsafeBufferPointer<UInt8>?) in
                Call(method: target.method, slot: target.slot, reply: waiting.reply, id: id, params: params, deadline: waiting.deadline)
            }
            let call = Self.withBytes(waiting.id) { id in Self.withBytes(waiting.params) { params in make(id, params) } }
            call.resolved = target.resolved
            target.slot.mailbox.post(.call(call))
            return nil
        }
    }

    private func answer(_ waiting: Waiting, _ error: RPCError) {
        HostMethods.complete(waiting.reply, id: waiting.id, .failure(error))
        waiting.reply.client?.callFinished()
    }

    private static func withBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body($0) }
    }
}
