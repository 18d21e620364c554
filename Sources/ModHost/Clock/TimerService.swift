import CModHost
import Dispatch
import Foundation
import HeapModule

/// A timer that came due, on its way to the module's mailbox.
final class TimerFiring: @unchecked Sendable {
    let id: UInt64
    let fn: mh_timer_fn
    let user: UnsafeMutableRawPointer?
    /// Signalled once the callback ran or was dropped (the manual clock waits for it).
    let done: (@Sendable () -> Void)?

    init(id: UInt64, fn: mh_timer_fn, user: UnsafeMutableRawPointer?, done: (@Sendable () -> Void)?) {
        self.id = id
        self.fn = fn
        self.user = user
        self.done = done
    }
}

/// Plugin timers (`timer_start`), scheduled on the host clock.
///
/// With the real clock a thread sleeps until the earliest timer is due. With the manual clock
/// nothing fires until `advance(to:)`, which fires every timer it passes in due order, moving the
/// clock to each one's due time and waiting for its callback before the next.
final class TimerService: @unchecked Sendable {
    private struct Timer {
        let context: ModuleContext
        let fn: mh_timer_fn
        let user: UnsafeMutableRawPointer?
        let repeatMs: UInt64
        var due: Int64
        /// A one-shot timer that fired stays here until its callback runs, so it can be cancelled.
        var fired = false
    }
    private struct Entry: Comparable {
        let due: Int64
        let id: UInt64
        static func < (a: Entry, b: Entry) -> Bool { a.due != b.due ? a.due < b.due : a.id < b.id }
    }

    let clock: any HostClock
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var heap = Heap<Entry>()
    private var timers: [UInt64: Timer] = [:]
    private var nextID: UInt64 = 1
    /// Timers whose callback is running now, and the thread running it.
    private var firing: [UInt64: pthread_t] = [:]
    private var stopped = false
    private var wakeAt: Int64 = .max

    init(clock: any HostClock) {
        self.clock = clock
        if !clock.isManual {
            let thread = Thread { [self] in
                CrashReport.prepareThread()
                self.runRealTime()
            }
            thread.name = "modhost-timers"
            thread.start()
        }
    }

    func start(context: ModuleContext, delayMs: UInt64, repeatMs: UInt64, fn: mh_timer_fn, user: UnsafeMutableRawPointer?) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return 0 }
        let id = nextID
        nextID += 1
        let due = Self.add(clock.nowMs, delayMs)
        timers[id] = Timer(context: context, fn: fn, user: user, repeatMs: repeatMs, due: due)
        heap.insert(Entry(due: due, id: id))
        if due < wakeAt { condition.signal() }
        return id
    }

    /// Cancels a timer. Once it returns the callback does not run again: if it is running on
    /// another thread right now, this waits for it to finish.
    func cancel(_ id: UInt64, of context: ModuleContext) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let timer = timers[id], timer.context === context else { return false }
        timers[id] = nil
        while let thread = firing[id], pthread_equal(thread, pthread_self()) == 0 {
            condition.wait()
        }
        return true
    }

    func cancelAll(of context: ModuleContext) {
        condition.lock()
        timers = timers.filter { $0.value.context !== context }
        condition.unlock()
    }

    /// Runs a firing that reached the module, unless the timer was cancelled meanwhile. A fired
    /// one-shot timer is forgotten here.
    func fire(_ firing: TimerFiring) {
        condition.lock()
        guard let timer = timers[firing.id] else {
            condition.unlock()
            return
        }
        if timer.fired { timers[firing.id] = nil }
        self.firing[firing.id] = pthread_self()
        condition.unlock()
        firing.fn(firing.user, firing.id)
        condition.lock()
        self.firing[firing.id] = nil
        condition.broadcast()
        condition.unlock()
    }


    /// Manual clock only: moves time to `target`, firing every timer due on the way, in order.
    func advance(to target: Int64, clock manual: ManualClock) {
        while true {
            condition.lock()
            guard let (timer, id) = popDue(notAfter: target) else {
                condition.unlock()
                break
            }
            if timer.due > manual.nowMs { manual.set(timer.due) }
            condition.unlock()
            let semaphore = DispatchSemaphore(value: 0)
            let firing = TimerFiring(id: id, fn: timer.fn, user: timer.user, done: { semaphore.signal() })
            timer.context.slot.mailbox.post(.callback(timer.context, .timer(firing)))
            semaphore.wait()
        }
        manual.set(target)
    }

    func shutdown() {
        condition.lock()
        stopped = true
        timers.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Pops the earliest live timer due at or before `limit`, rescheduling it if it repeats.
    /// Must hold `condition`.
    private func popDue(notAfter limit: Int64) -> (Timer, UInt64)? {
        while let top = heap.min, top.due <= limit {
            heap.removeMin()
            guard var timer = timers[top.id], timer.due == top.due, !timer.fired else { continue }
            let next = max(Self.add(timer.due, timer.repeatMs), clock.isManual ? .min : limit)
            if timer.repeatMs > 0 && next > timer.due {
                let fired = timer
                timer.due = next
                timers[top.id] = timer
                heap.insert(Entry(due: timer.due, id: top.id))
                return (fired, top.id)
            }
            timer.fired = true
            timers[top.id] = timer
            return (timer, top.id)
        }
        return nil
    }

    /// `time + ms`, saturating: a delay too large to represent means "never".
    private static func add(_ time: Int64, _ ms: UInt64) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(Int64(clamping: ms))
        return overflow ? .max : sum
    }

    private func runRealTime() {
        condition.lock()
        while !stopped {
            let now = clock.nowMs
            if let (timer, id) = popDue(notAfter: now) {
                condition.unlock()
                let firing = TimerFiring(id: id, fn: timer.fn, user: timer.user, done: nil)
                timer.context.slot.mailbox.post(.callback(timer.context, .timer(firing)))
                condition.lock()
                continue
            }
            if let next = heap.min {
                wakeAt = next.due
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(next.due - now) / 1000))
            } else {
                wakeAt = .max
                condition.wait()
            }
            wakeAt = .max
        }
        condition.unlock()
    }
}
