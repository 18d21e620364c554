import CModHost
import Dispatch
import Foundation
import HeapModule
import ModHostSupport

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
/// Timers measure elapsed time. Due times are kept on the host clock (ms since the epoch),
/// and the clock's steps are handled alike for both clocks:
///
/// - **Time passing** (`clock.advance`, or the real clock running): a repeating timer fires
///   once per period it crosses (with `clock.advance`, up to `maxPeriodsPerAdvance` per timer;
///   beyond that the rest counts as a jump).
/// - **A forward step** (`clock.set` forward, the wall clock set forward, a suspend): every
///   timer the step passed fires once, after the step; a repeating one then keeps its phase
///   (its next due time is the first period boundary after the new time).
/// - **A backward step** (`clock.set` back, the wall clock set back, e.g. by NTP): every
///   timer's due time moves back by the step, so each still fires after the time it was
///   waiting for and repeating timers keep their cadence; nothing stalls.
///
/// With the real clock a thread sleeps on the monotonic clock until the earliest timer is due
/// (`RealClockWaiter`) and looks for wall-clock steps at every wake-up by comparing
/// `CLOCK_REALTIME − CLOCK_MONOTONIC` with its last reading: a change of more than
/// `stepThresholdMs` is a step. With the manual clock nothing fires until `advance(to:)` or
/// `set(to:)`, which fire the timers due in order, waiting for each callback before the next.
final class TimerService: @unchecked Sendable {
    /// The most periods one repeating timer fires for in one `clock.advance`.
    static let maxPeriodsPerAdvance = 100_000
    /// A change of `CLOCK_REALTIME − CLOCK_MONOTONIC` this large is a wall-clock step (slewing
    /// by NTP changes it by at most 0.5 ms per second).
    static let stepThresholdMs: Int64 = 100

    private struct Timer {
        /// The module whose callback this is; nil for one of the host's own (`startHost`).
        let context: ModuleContext?
        let fn: mh_timer_fn?
        let user: UnsafeMutableRawPointer?
        /// A host timer's action, run on the thread that finds it due.
        var action: (@Sendable () -> Void)? = nil
        let repeatMs: Int64
        var due: Int64
        /// Real clock: `CLOCK_REALTIME − CLOCK_MONOTONIC` when `due` was set, so that a backward
        /// step moves exactly the timers set before it (one started after the step, before the
        /// timer thread noticed it, is on the new time already). 0 on the manual clock.
        var base: Int64 = 0
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
    /// (A concurrent module may run two firings of one repeating timer at once: every thread
    /// running one is listed, and `cancel` waits for all but its own.)
    private var firing: [UInt64: [pthread_t]] = [:]
    private var stopped = false
    /// The due time the real-clock thread sleeps for (`.max`: none, or not sleeping).
    private var wakeAt: Int64 = .max
    private let waiter: RealClockWaiter?

    init(clock: any HostClock) {
        self.clock = clock
        waiter = clock.isManual ? nil : RealClockWaiter()
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
        // Saturating, not capped: a delay too large to represent means "never".
        let due = clock.nowMs.addingSaturating(Int64(clamping: delayMs))
        timers[id] = Timer(context: context, fn: fn, user: user, repeatMs: Int64(clamping: repeatMs), due: due,
                           base: waiter == nil ? 0 : RealClockWaiter.wallMinusMonotonicMs())
        heap.insert(Entry(due: due, id: id))
        if due < wakeAt { waiter?.wake() }
        return id
    }

    /// Starts one of the host's own timers (a gate's check): `action` runs on the thread that
    /// finds it due (the one moving the manual clock, or the real clock's timer thread), so it
    /// must be quick or hand its work on. 0 once shut down.
    func startHost(delayMs: UInt64, repeatMs: UInt64, action: @escaping @Sendable () -> Void) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return 0 }
        let id = nextID
        nextID += 1
        let due = clock.nowMs.addingSaturating(Int64(clamping: delayMs))
        timers[id] = Timer(context: nil, fn: nil, user: nil, action: action, repeatMs: Int64(clamping: repeatMs), due: due,
                           base: waiter == nil ? 0 : RealClockWaiter.wallMinusMonotonicMs())
        heap.insert(Entry(due: due, id: id))
        if due < wakeAt { waiter?.wake() }
        return id
    }

    /// Cancels a host timer (`startHost`); its action does not start again.
    func cancelHost(_ id: UInt64) {
        condition.lock()
        if timers[id]?.context == nil { timers[id] = nil }
        condition.unlock()
    }

    /// Cancels a timer. Once it returns the callback does not run again: if it is running on
    /// another thread right now, this waits for it to finish.
    func cancel(_ id: UInt64, of context: ModuleContext) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let timer = timers[id], timer.context === context else { return false }
        timers[id] = nil
        while firing[id]?.contains(where: { pthread_equal($0, pthread_self()) == 0 }) == true {
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
        self.firing[firing.id, default: []].append(pthread_self())
        condition.unlock()
        firing.fn(firing.user, firing.id)
        condition.lock()
        if let index = self.firing[firing.id]?.firstIndex(where: { pthread_equal($0, pthread_self()) != 0 }) {
            self.firing[firing.id]!.remove(at: index)
            if self.firing[firing.id]!.isEmpty { self.firing[firing.id] = nil }
        }
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - The manual clock

    /// `clock.advance`: time passes up to `target`; every timer due on the way fires, in order,
    /// the clock moving to each one's due time first (a repeating timer once per period, up to
    /// `maxPeriodsPerAdvance`; then it jumps to the first period after `target`).
    func advance(to target: Int64, clock manual: ManualClock) {
        var periods: [UInt64: Int] = [:]
        runDue(notAfter: target, clock: manual, endingAt: target) { id in
            periods[id, default: 0] += 1
            return periods[id, default: 0] >= Self.maxPeriodsPerAdvance
        }
    }

    /// `clock.set`: a jump. Forward, the clock moves to `target` and every timer it passed
    /// fires once, in due order; back, every timer's due time moves back by the step, so
    /// nothing fires early and nothing stalls.
    func set(to target: Int64, clock manual: ManualClock) {
        condition.lock()
        let now = manual.nowMs
        manual.set(target)
        if target < now {
            shiftDueTimes(by: HostTime.elapsed(from: now, to: target))
            condition.unlock()
            return
        }
        condition.unlock()
        runDue(notAfter: target, clock: manual) { _ in true }
    }

    /// Fires every timer due at or before `limit`, one at a time, waiting for each callback.
    /// `jumps(id)` says whether a repeating timer skips to its first period after `limit`.
    /// `endingAt`: where the clock goes once none is due, in the same hold of `condition` as
    /// the last look, so a timer a module starts from a thread of its own while this runs
    /// (`start` reads the clock under `condition` too) is either seen here or counted from the
    /// final time; set outside it, a timer started between the look and the set was due before
    /// the clock's new time and did not fire until the next move.
    private func runDue(notAfter limit: Int64, clock manual: ManualClock, endingAt end: Int64? = nil, jumps: (UInt64) -> Bool) {
        while true {
            condition.lock()
            guard let (timer, id) = popDue(notAfter: limit, jumps: jumps) else {
                if let end { manual.set(end) }
                condition.unlock()
                break
            }
            if timer.due > manual.nowMs { manual.set(timer.due) }
            condition.unlock()
            guard let context = timer.context, let fn = timer.fn else {
                timer.action?()
                continue
            }
            let semaphore = DispatchSemaphore(value: 0)
            let firing = TimerFiring(id: id, fn: fn, user: timer.user, done: { semaphore.signal() })
            context.slot.mailbox.post(.callback(context, .timer(firing)))
            semaphore.wait()
        }
    }

    func shutdown() {
        condition.lock()
        stopped = true
        timers.removeAll()
        waiter?.wake()
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - Due times

    /// Pops the earliest live timer due at or before `limit`, rescheduling it if it repeats:
    /// one period later (time passing), or, when `jumps(id)`, at its first period after
    /// `limit` (a jump: it fires once for all the periods it missed). Must hold `condition`.
    private func popDue(notAfter limit: Int64, jumps: (UInt64) -> Bool) -> (Timer, UInt64)? {
        while let top = heap.min, top.due <= limit {
            heap.removeMin()
            guard var timer = timers[top.id], timer.due == top.due, !timer.fired else { continue }
            let next = jumps(top.id) ? Self.firstPeriod(after: limit, from: timer.due, every: timer.repeatMs)
                : timer.due.addingSaturating(timer.repeatMs)
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

    /// The first `due + k × period` (k ≥ 1) after `limit`: where a repeating timer goes on after
    /// a jump, keeping its phase. Saturating: past the end of representable time it never fires.
    static func firstPeriod(after limit: Int64, from due: Int64, every period: Int64) -> Int64 {
        guard period > 0 else { return due }
        let behind = max(HostTime.elapsed(from: due, to: limit), 0)
        let periods = behind / period + 1
        return due.addingSaturating(period.multipliedSaturating(by: periods))
    }

    /// Moves every timer's due time by `step` ms (a backward step: negative). Must hold `condition`.
    private func shiftDueTimes(by step: Int64) {
        guard step != 0 else { return }
        var entries: [Entry] = []
        entries.reserveCapacity(timers.count)
        for (id, var timer) in timers {
            timer.due = timer.due.addingSaturating(step)
            timers[id] = timer
            if !timer.fired { entries.append(Entry(due: timer.due, id: id)) }
        }
        heap = Heap(entries)
    }

    /// Real clock: the wall clock is now `offset` ms ahead of the monotonic clock. Every timer
    /// set when it was further ahead (a backward step since) moves back by the difference; a
    /// forward step moves nothing (what it passed is due). Must hold `condition`.
    private func rebase(to offset: Int64) {
        var moved = false
        for (id, var timer) in timers {
            let step = HostTime.elapsed(from: timer.base, to: offset)
            guard step <= -Self.stepThresholdMs else { continue }
            timer.due = timer.due.addingSaturating(step)
            timer.base = offset
            timers[id] = timer
            moved = true
        }
        if moved { heap = Heap(timers.compactMap { $0.value.fired ? nil : Entry(due: $0.value.due, id: $0.key) }) }
    }

    // MARK: - The real clock

    private func runRealTime() {
        guard let waiter else { return }
        condition.lock()
        var offset = RealClockWaiter.wallMinusMonotonicMs()
        while !stopped {
            let sampled = RealClockWaiter.wallMinusMonotonicMs()
            // A step either way since the last look: timers set before a backward one move back.
            if HostTime.elapsed(from: offset, to: sampled).magnitude >= Self.stepThresholdMs.magnitude { rebase(to: sampled) }
            offset = sampled
            let now = clock.nowMs
            var due: [(Timer, UInt64)] = []
            while let popped = popDue(notAfter: now, jumps: { _ in true }) { due.append(popped) }
            if !due.isEmpty {
                condition.unlock()
                for (timer, id) in due {
                    guard let context = timer.context, let fn = timer.fn else {
                        timer.action?()
                        continue
                    }
                    let firing = TimerFiring(id: id, fn: fn, user: timer.user, done: nil)
                    context.slot.mailbox.post(.callback(context, .timer(firing)))
                }
                condition.lock()
                continue
            }
            wakeAt = heap.min?.due ?? .max
            let timeout = heap.min.map { HostTime.elapsed(from: now, to: $0.due) }
            condition.unlock()
            waiter.wait(timeoutMs: timeout)
            condition.lock()
            wakeAt = .max
        }
        waiter.close()
        condition.unlock()
    }
}
