import Foundation
import Synchronization

/// How many calls of one module are handed to its plugin and not completed yet, and a way to
/// wait until none is, without polling: a swap's drain, an unload and shutdown wait here, and
/// the call that brings the count to zero wakes them.
///
/// Counting costs the call path one atomic add and one subtract, plus one atomic load of the
/// waiter count on the way down; the lock is taken only while someone waits.
final class OpenCallCount: Sendable {
    private let value = Atomic<Int>(0)
    private let waiters = Atomic<Int>(0)
    private let condition = NSCondition()

    /// Calls open now.
    var count: Int { value.load(ordering: .sequentiallyConsistent) }

    @inline(__always)
    func opened() {
        value.add(1, ordering: .relaxed)
    }

    @inline(__always)
    func closed() {
        guard value.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
            waiters.load(ordering: .sequentiallyConsistent) > 0
        else { return }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until no call is open or `deadline` passes; returns whether none is.
    func waitForNone(until deadline: ContinuousClock.Instant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        waiters.add(1, ordering: .sequentiallyConsistent)
        defer { waiters.subtract(1, ordering: .sequentiallyConsistent) }
        while count > 0 {
            let left = deadline - ContinuousClock.now
            guard left > .zero, condition.wait(until: Date(timeIntervalSinceNow: left.seconds)) || count == 0 else {
                return count == 0
            }
        }
        return true
    }
}
