import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One call being handled. Valid only while the host's `handle` runs; what must outlive it
/// (an async handler, a `CallReply`) copies `call` into a `PendingCall`.
struct CallContext {
    let call: OpaquePointer
    /// The raw params JSON, borrowed from the host.
    let params: UnsafeRawBufferPointer
    let core: HostCore
    let tasks: TaskTracker

    /// Runs a synchronous handler and completes the call with its result or error.
    func complete<Reply: SendableMetatype>(_ writer: ResultWriter<Reply>, _ work: () throws -> Reply) -> Int32 {
        let outcome: Result<Data, PluginError>
        do {
            outcome = writer.write(try work(), core.encoder)
        } catch {
            outcome = .failure(PluginError(mapping: error))
        }
        core.table.complete(call, with: outcome)
        return MH_OK
    }

    /// Runs a synchronous handler without a result; the call's result is `null`.
    func completeWithNull(_ work: () throws -> Void) -> Int32 {
        do {
            try work()
            core.table.complete(call, with: .success(Self.null))
        } catch {
            core.table.complete(call, with: .failure(PluginError(mapping: error)))
        }
        return MH_OK
    }

    /// Fails the call now (e.g. its params do not decode).
    func fail(_ error: any Error) -> Int32 {
        core.table.complete(call, with: .failure(PluginError(mapping: error)))
        return MH_OK
    }

    /// Runs an async handler in a task that completes the call later; returns `MH_PENDING`.
    ///
    /// The task is cancelled when the instance stops; after `destroy` its completion is
    /// dropped (the host has given up on the call by then). `CallInfo.current` is bound in the
    /// task for the handler.
    func completeLater<Reply: SendableMetatype>(_ writer: ResultWriter<Reply>, _ work: @escaping @Sendable () async throws -> Reply) -> Int32 {
        let pending = PendingCall(call: call)
        let core = self.core
        tasks.spawn {
            let outcome: Result<Data, PluginError>
            do {
                let reply = try await CallInfo.$task.withValue(CallInfo(call: pending, core: core)) { try await work() }
                outcome = writer.write(reply, core.encoder)
            } catch {
                outcome = .failure(PluginError(mapping: error))
            }
            core.withTable(closed: ()) { _, _ in core.table.complete(pending.call, with: outcome) }
        }
        return MH_PENDING
    }

    /// Runs a handler that answers through a `CallReply`, now or later; returns `MH_PENDING`
    /// (which the host accepts even when the call was completed before `handle` returned). What
    /// the handler throws fails the call, unless the reply was already used.
    func completeThroughReply(_ work: (CallReply) throws -> Void) -> Int32 {
        let reply = CallReply(call: PendingCall(call: call), core: core)
        do {
            try work(reply)
        } catch {
            reply.fail(error)
        }
        return MH_PENDING
    }

    static let null = Data("null".utf8)
}
