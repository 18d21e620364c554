import Synchronization

/// The calls currently handed to plugins, addressed by the `mh_call *` tokens plugins hold.
///
/// A token is a slot index and a generation, never a pointer: a plugin that completes a call
/// twice, or after it timed out, gets `MH_EXPIRED` instead of touching freed memory. A call is
/// open from the moment its `handle` is entered until it is completed or its deadline passes,
/// even while the plugin is still inside `handle`: its caller is never held past the deadline.
/// Every method may be called from any thread.
final class CallTable: Sendable {
    fileprivate struct Entry {
        var call: Call?
        var generation: UInt32 = 0
    }
    fileprivate struct Slab {
        var entries: [Entry] = []
        var free: [Int] = []
        /// No open call's deadline is earlier (a lower bound: taking a call does not raise it),
        /// so the timeout sweep skips the table until then.
        var earliestDeadline = UInt64.max
    }
    fileprivate let slab = Mutex(Slab())

    /// Registers a call about to be handed to a plugin and returns its token (never 0).
    func insert(_ call: Call) -> UInt64 {
        slab.withLock { slab in
            let index: Int
            if let reused = slab.free.popLast() {
                index = reused
            } else {
                index = slab.entries.count
                slab.entries.append(Entry())
            }
            slab.entries[index].call = call
            call.slot.openCalls.add(1, ordering: .relaxed)
            slab.entries[index].generation &+= 1
            slab.earliestDeadline = min(slab.earliestDeadline, call.deadline)
            return UInt64(slab.entries[index].generation) << 32 | UInt64(index + 1)
        }
    }

    /// Removes and returns the call if it is still open.
    func take(_ token: UInt64) -> Call? {
        let index = Int(truncatingIfNeeded: token & 0xFFFF_FFFF) - 1
        let generation = UInt32(truncatingIfNeeded: token >> 32)
        return slab.withLock { slab in
            guard index >= 0, index < slab.entries.count, slab.entries[index].generation == generation,
                let call = slab.entries[index].call
            else { return nil }
            slab.remove(at: index)
            return call
        }
    }

    /// Removes and returns the open calls whose deadline is at or before `now` (monotonic ns).
    func takeExpired(now: UInt64) -> [Call] {
        slab.withLock { slab in
            guard slab.earliestDeadline <= now else { return [] }
            var expired: [Call] = []
            var earliest = UInt64.max
            for index in slab.entries.indices {
                guard let call = slab.entries[index].call else { continue }
                if call.deadline <= now {
                    expired.append(call)
                    slab.remove(at: index)
                } else {
                    earliest = min(earliest, call.deadline)
                }
            }
            slab.earliestDeadline = earliest
            return expired
        }
    }

    /// Removes and returns every open call of `slot` (used when a module is unloaded or the host stops).
    func takeAll(of slot: ModuleSlot) -> [Call] {
        slab.withLock { slab in
            var taken: [Call] = []
            for index in slab.entries.indices {
                guard let call = slab.entries[index].call, call.slot === slot else { continue }
                taken.append(call)
                slab.remove(at: index)
            }
            return taken
        }
    }
}

extension CallTable.Slab {
    /// Frees an occupied entry.
    fileprivate mutating func remove(at index: Int) {
        entries[index].call?.slot.openCalls.subtract(1, ordering: .relaxed)
        entries[index].call = nil
        free.append(index)
    }
}

extension CallTable {
    /// The process's call table: `mh_call *` tokens are global, like the host table.
    static let shared = CallTable()

    /// How many calls are open in all modules.
    var openCount: Int { slab.withLock { $0.entries.count - $0.free.count } }

    /// How many calls of `slot` are open (in a handle, or pending).
    func openCount(of slot: ModuleSlot) -> Int {
        slot.openCalls.load(ordering: .relaxed)
    }
}
