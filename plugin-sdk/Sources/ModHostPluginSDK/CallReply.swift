import CModHost
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A call that a handler answers later: kept by the module (in its state, beside what it waits
/// for) and completed exactly once, from any thread, when the answer is known: a token refresh
/// that finished, a node's task result, a result landing in a queue.
///
///     methods.addPending("wait", params: ["key"]) { (queue, p: Wait, reply) in
///         queue.waiters.withLock { $0[p.key, default: []].append(reply) }
///     }
///     // later, from a timer, an event, another call or another thread:
///     reply.succeed(Landed(key: key, value: value))
///
/// Only the first completion counts (`succeed` and `fail` return whether theirs did); later
/// ones do nothing. A reply dropped without a completion fails its call at once (-32603, "…
/// dropped the call without answering it") rather than leaving the caller to its deadline.
/// The call's deadline still holds: past it the caller has its -32004 and a completion only
/// returns `false`. `info` says who asked and how long they still wait.
///
/// Thread-safe: complete it from any thread, even before the handler returned.
public final class CallReply: Sendable {
    let call: PendingCall
    let core: HostCore
    private let completed = Atomic<Bool>(false)

    init(call: PendingCall, core: HostCore) {
        self.call = call
        self.core = core
    }

    deinit {
        if !isCompleted {
            complete(.failure(.internalError("module \(core.moduleID) dropped the call without answering it")))
        }
    }

    /// The call's client and remaining deadline (`nil` fields once it is over).
    public var info: CallInfo { CallInfo(call: call, core: core) }

    /// Whether `succeed` or `fail` was called (the call may also be over by its deadline: then
    /// `info`'s fields are `nil`).
    public var isCompleted: Bool { completed.load(ordering: .acquiring) }

    /// Whether the call is over: completed, or past its deadline (its caller has a -32004).
    /// On a host older than ABI 1.2 only a completion is seen.
    public var isOver: Bool {
        if isCompleted { return true }
        return core.withTable(closed: true) { api, _ in
            guard let remaining = api.pointee.call_remaining_ms else { return false }
            return remaining(call.call) < 0
        }
    }

    /// Answers with `result` encoded as JSON (a `RawJSON` as it is; a `JSONValue` by the toolkit).
    @discardableResult
    public func succeed(_ result: some Encodable) -> Bool {
        complete(AnyResultWriter.write(result, with: core.encoder))
    }

    /// Answers with `null`.
    @discardableResult
    public func succeed() -> Bool {
        complete(.success(CallContext.null))
    }

    /// Fails the call as a handler's thrown `error` would (see `PluginError`).
    @discardableResult
    public func fail(_ error: any Error) -> Bool {
        complete(.failure(PluginError(mapping: error)))
    }

    @discardableResult
    private func complete(_ outcome: Result<Data, PluginError>) -> Bool {
        guard completed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        let core = self.core
        let call = self.call
        return core.withTable(closed: false) { _, _ in core.table.complete(call.call, with: outcome) == MH_OK }
    }
}
