import CModHost

/// What the host knows about the call a method handler is running for (ABI 1.2): which client
/// asked, and how long its caller still waits.
///
/// Read it as `CallInfo.current` inside a handler, sync or async (the SDK sets it for the
/// handler's duration: a sync handler's on the host's thread, an async handler's in its task);
/// it is `nil` elsewhere (timers, events, `start`, a task a sync handler starts). A call
/// answered later through a `CallReply` carries its own: `reply.info`. Handlers that do not
/// read it pay nothing for it.
///
///     methods.add("register", params: ["node"]) { (node, p: Register) in
///         let agent = CallInfo.current?.clientID ?? 0   // 0: a module called
///         node.agents.withLock { $0[p.node] = agent }
///     }
public struct CallInfo: Sendable {
    let call: PendingCall
    let core: HostCore

    /// The call a handler on this thread or task is running for.
    public static var current: CallInfo? {
        CallSlot.current ?? task
    }

    /// An async handler's call, bound when its task starts.
    @TaskLocal static var task: CallInfo?

    /// The control-channel client the call came from: its id (stdio is 1), or 0 when another
    /// module (or the host) made the call. `nil` once the call is completed or timed out, and
    /// on a host older than ABI 1.2.
    public var clientID: UInt64? {
        core.withTable(closed: nil) { api, _ in
            guard let callClient = api.pointee.call_client else { return nil }
            let id = callClient(call.call)
            return id >= 0 ? UInt64(id) : nil
        }
    }

    /// How long until the call's deadline, when its caller stops waiting (0 once due). `nil`
    /// once the call is completed or timed out, and on a host older than ABI 1.2. Work for the
    /// call that cannot finish in time is better not started.
    public var remaining: Duration? {
        core.withTable(closed: nil) { api, _ in
            guard let remaining = api.pointee.call_remaining_ms else { return nil }
            let ms = remaining(call.call)
            return ms >= 0 ? .milliseconds(ms) : nil
        }
    }
}
