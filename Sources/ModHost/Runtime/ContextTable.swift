import Synchronization

/// The module instances plugins may address, by the `mh_context *` tokens they hold.
///
/// Like `CallTable`, a token is a slot index and a generation, never a pointer: a plugin thread
/// that calls the host table after its instance was destroyed finds nothing (`MH_EXPIRED`)
/// instead of a freed `ModuleContext`. The table holds each registered context strongly until
/// it is retired, right after the instance's `destroy` returns (or its `init` failed).
/// Every method may be called from any thread.
final class ContextTable: Sendable {
    private struct Entry {
        var context: ModuleContext?
        var generation: UInt32 = 0
    }
    private struct Slab {
        var entries: [Entry] = []
        var free: [Int] = []
    }
    private let slab = Mutex(Slab())

    /// The process's table: `mh_context *` tokens are global, like the host table.
    static let shared = ContextTable()

    /// Registers `context` and returns its token (never 0).
    func register(_ context: ModuleContext) -> UInt64 {
        slab.withLock { slab in
            let index: Int
            if let reused = slab.free.popLast() {
                index = reused
            } else {
                index = slab.entries.count
                slab.entries.append(Entry())
            }
            slab.entries[index].context = context
            slab.entries[index].generation &+= 1
            return UInt64(slab.entries[index].generation) << 32 | UInt64(index + 1)
        }
    }

    /// The context a token names, or nil once it is retired (or for a token never handed out).
    @inline(__always)
    func lookup(_ token: UInt64) -> ModuleContext? {
        let index = Int(truncatingIfNeeded: token & 0xFFFF_FFFF) - 1
        let generation = UInt32(truncatingIfNeeded: token >> 32)
        return slab.withLock { slab in
            guard index >= 0, index < slab.entries.count, slab.entries[index].generation == generation else { return nil }
            return slab.entries[index].context
        }
    }

    /// Forgets a token: later lookups answer nil. Retiring twice is harmless.
    func retire(_ token: UInt64) {
        let index = Int(truncatingIfNeeded: token & 0xFFFF_FFFF) - 1
        let generation = UInt32(truncatingIfNeeded: token >> 32)
        slab.withLock { slab in
            guard index >= 0, index < slab.entries.count, slab.entries[index].generation == generation,
                slab.entries[index].context != nil
            else { return }
            slab.entries[index].context = nil
            slab.free.append(index)
        }
    }

    /// How many contexts are registered (for tests of the runtime).
    var count: Int { slab.withLock { $0.entries.count - $0.free.count } }
}
