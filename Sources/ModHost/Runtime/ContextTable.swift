import Synchronization

/// The module instances plugins may address, by the `mh_context *` tokens they hold.
///
/// Like `CallTable`, a token is a `TokenSlab` slot and generation, never a pointer: a plugin
/// thread that calls the host table after its instance was destroyed finds nothing
/// (`MH_EXPIRED`) instead of a freed `ModuleContext`. The table holds each registered context
/// strongly until it is retired, right after the instance's `destroy` returns (or its `init`
/// failed). Every method may be called from any thread.
final class ContextTable: Sendable {
    private let slab = Mutex(TokenSlab<ModuleContext>())

    /// The process's table: `mh_context *` tokens are global, like the host table.
    static let shared = ContextTable()

    /// Registers `context` and returns its token (never 0).
    func register(_ context: ModuleContext) -> UInt64 {
        slab.withLock { $0.insert(context) }
    }

    /// The context a token names, or nil once it is retired (or for a token never handed out).
    @inline(__always)
    func lookup(_ token: UInt64) -> ModuleContext? {
        slab.withLock { $0.value(token) }
    }

    /// Forgets a token: later lookups answer nil. Retiring twice is harmless.
    func retire(_ token: UInt64) {
        _ = slab.withLock { $0.remove(token) }
    }
}
