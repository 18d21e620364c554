import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One call being handled. Valid only while the host's `handle` runs; what must outlive it
/// (an async handler) copies `call` into a `PendingCall`.
struct CallContext {
    let call: OpaquePointer
    /// The raw params JSON, borrowed from the host.
    let params: UnsafeRawBufferPointer
    let core: HostCore
    let tasks: TaskTracker

    /// Runs a synchronous handler and completes the call with its result or error.
    func complete<Reply: Encodable>(_ work: () throws -> Reply) -> Int32 {
        let outcome: Result<Data, PluginError>
        do {
            let reply = try work()
            outcome = Self.encode(reply, with: core.encoder)
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
    /// dropped (the host has given up on the call by then).
    func completeLater(_ work: @escaping @Sendable () async throws -> any Encodable) -> Int32 {
        let pending = PendingCall(call: call)
        let core = self.core
        tasks.spawn {
            let outcome: Result<Data, PluginError>
            do {
                let reply = try await work()
                outcome = Self.encode(reply, with: core.encoder)
            } catch {
                outcome = .failure(PluginError(mapping: error))
            }
            core.withTable(closed: ()) { _, _ in core.table.complete(pending.call, with: outcome) }
        }
        return MH_PENDING
    }

    static let null = Data("null".utf8)

    /// A `JSONValue` is written by the toolkit (linear, keys sorted); anything else by `encoder`,
    /// which also refuses a `JSONValue` holding NaN or an infinity (as it refuses such a `Double`).
    private static func encode(_ reply: some Encodable, with encoder: JSONEncoder) -> Result<Data, PluginError> {
        if let value = reply as? JSONValue, value.isFinite { return .success(value.isNull ? null : Data(value.jsonBytes)) }
        do {
            return .success(try encoder.encode(reply))
        } catch {
            return .failure(PluginError(mapping: error))
        }
    }
}
