import CModHostShims
import Glibc

/// A value read on every call and changed rarely (the registry's slots, a slot's current
/// instance), behind a read-write lock: readers share it, so the reader threads of several
/// clients routing calls at once never wait for each other. (A `Mutex` here, a priority-
/// inheritance futex on Linux, turned every call of 8 busy socket clients into a system call:
/// 33,000 calls/s instead of 600,000.) Writers go first once waiting; readers must not nest.
final class ReadMostly<Value>: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        lock.initialize(to: pthread_rwlock_t())
        let error = mh_shim_rwlock_init_writer_preferring(lock)
        precondition(error == 0, "pthread_rwlock_init failed: \(error)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Reads under the shared lock.
    @inline(__always)
    func read<R>(_ body: (Value) throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    /// Changes (or reads consistently with changes) under the exclusive lock.
    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}
