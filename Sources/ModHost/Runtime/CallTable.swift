import Synchronization

/// The calls currently handed to plugins, addressed by the `mh_call *` tokens plugins hold.
///
/// A token is a slot index and a generation, never a pointer: a plugin that completes a call
/// twice, or after it timed out, gets `MH_EXPIRED` instead of touching freed memory.
/// Every method may be called from any thread.
final class CallTable: Sendable {
    fileprivate struct Entry {
        var call: Call?
        var generation: UInt32 = 0
        /// Deadline on the monotonic clock in nanoseconds; 0 while the plugin's handle runs.
        var deadline: UInt64 = 0
    }
    fileprivate struct Slab {
        var entries: [Entry] = []
        var free: [Int] = []
        var pending = 0
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
            slab.entries[index].deadline = 0
            return UInt64(slab.entries[index].generation) << 32 | UInt64(index + 1)
        }
    }

    /// Removes and returns the call if it is still open; `wasPending` tells whether its handle
    /// had returned `MH_PENDING`.
    func take(_ token: UInt64) -> (call: Call, wasPending: Bool)? {
        let index = Int(token & 0xFFFF_FFFF) - 1
        let generation = UInt32(token >> 32)
        return slab.withLock { slab in
            guard index >= 0, index < slab.entries.count, slab.entries[index].generation == generation,
                let call = slab.entries[index].call
            else { return nil }
            let wasPending = slab.entries[index].deadline != 0
            if wasPending { slab.pending -= 1 }
            call.slot.openCalls.subtract(1, ordering: .relaxed)
            slab.entries[index].call = nil
            slab.free.append(index)
            return (call, wasPending)
        }
    }

    /// Marks an open call as pending until `deadline`; false when it was completed already.
    func markPending(_ token: UInt64, deadline: UInt64) -> Bool {
        let index = Int(token & 0xFFFF_FFFF) - 1
        let generation = UInt32(token >> 32)
        return slab.withLock { slab in
            guard slab.entries[index].generation == generation, slab.entries[index].call != nil else { return false }
            slab.entries[index].deadline = max(deadline, 1)
            slab.pending += 1
            return true
        }
    }

    /// Removes and returns the pending calls whose deadline is at or before `now`.
    func takeExpired(now: UInt64) -> [Call] {
        slab.withLock { slab in
            guard slab.pending > 0 else { return [] }
            var expired: [Call] = []
            for index in slab.entries.indices {
                let deadline = slab.entries[index].deadline
                guard deadline != 0, deadline <= now, let call = slab.entries[index].call else { continue }
                expired.append(call)
                call.slot.openCalls.subtract(1, ordering: .relaxed)
                slab.entries[index].call = nil
                slab.entries[index].deadline = 0
                slab.free.append(index)
                slab.pending -= 1
            }
            return expired
        }
    }

    /// Removes and returns every open call of `slot` (used when a module is unloaded or the host stops).
    func takeAll(of slot: ModuleSlot) -> [(call: Call, wasPending: Bool)] {
        slab.withLock { slab in
            var taken: [(Call, Bool)] = []
            for index in slab.entries.indices {
                guard let call = slab.entries[index].call, call.slot === slot else { continue }
                let wasPending = slab.entries[index].deadline != 0
                if wasPending { slab.pending -= 1 }
                call.slot.openCalls.subtract(1, ordering: .relaxed)
                taken.append((call, wasPending))
                slab.entries[index].call = nil
                slab.entries[index].deadline = 0
                slab.free.append(index)
            }
            return taken
        }
    }

    var pendingCount: Int { slab.withLock { $0.pending } }
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
