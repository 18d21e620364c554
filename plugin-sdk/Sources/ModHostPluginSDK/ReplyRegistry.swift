import Synchronization

/// The reply closures of an instance's outstanding `PluginHost.call`s.
///
/// Each call's `user` pointer is a retained `Pending`; that reference is released exactly once:
/// by the reply callback, by `cancel` when the host refused the call, or by `failAll` at
/// `destroy` (after which the host never replies).
final class ReplyRegistry: Sendable {
    final class Pending: Sendable {
        let token: UInt64
        let registry: ReplyRegistry
        let reply: @Sendable (Result<RawJSON, PluginError>) -> Void

        init(token: UInt64, registry: ReplyRegistry, reply: @escaping @Sendable (Result<RawJSON, PluginError>) -> Void) {
            self.token = token
            self.registry = registry
            self.reply = reply
        }
    }

    private struct State {
        var nextToken: UInt64 = 1
        var pending: [UInt64: Pending] = [:]
    }

    private let state = Mutex(State())

    /// Records a call about to be made; returns the retained `user` pointer to pass to C.
    func register(_ reply: @escaping @Sendable (Result<RawJSON, PluginError>) -> Void) -> UnsafeMutableRawPointer {
        let pending = state.withLock { state in
            let pending = Pending(token: state.nextToken, registry: self, reply: reply)
            state.nextToken += 1
            state.pending[pending.token] = pending
            return pending
        }
        return Unmanaged.passRetained(pending).toOpaque()
    }

    /// The host refused the call (its reply will never come): forgets it and releases `user`.
    func cancel(_ user: UnsafeMutableRawPointer) {
        let pending = Unmanaged<Pending>.fromOpaque(user).takeRetainedValue()
        _ = state.withLock { $0.pending.removeValue(forKey: pending.token) }
    }

    /// The reply arrived: consumes `user` and runs the closure with `result`.
    static func deliver(_ user: UnsafeMutableRawPointer, _ result: Result<RawJSON, PluginError>) {
        let pending = Unmanaged<Pending>.fromOpaque(user).takeRetainedValue()
        let known = pending.registry.state.withLock { $0.pending.removeValue(forKey: pending.token) != nil }
        if known { pending.reply(result) }
    }

    /// The instance is being destroyed: every outstanding closure gets `error` and its `user`
    /// reference is released.
    func failAll(_ error: PluginError) {
        let pending = state.withLock { state in
            let pending = Array(state.pending.values)
            state.pending = [:]
            return pending
        }
        for entry in pending {
            Unmanaged.passUnretained(entry).release()
            entry.reply(.failure(error))
        }
    }
}
