import DequeModule
import Dispatch
import Foundation
import Synchronization
import CModHost

/// The work queue of one module: calls, events, timer firings and replies run through it.
///
/// Each mailbox has its own worker threads (one for a serial module, so its jobs run one at a
/// time in the order posted; up to `concurrentWorkers` for a module that set
/// `MH_FLAG_CONCURRENT`, each taking the next job as soon as it is free, so calls, events,
/// timers, replies and typed exports of such a module overlap, as `modhost.h` says). A plugin
/// that blocks in `handle` therefore holds up only its own module.
///
/// Lifecycle changes use two brakes: `pause()` holds every job back and waits until none is
/// running; `holdCalls()` parks calls only (in order) while replies, timers and events keep
/// running, so calls already pending can complete before a hot swap stops the instance.
/// `close()` ends the mailbox: what is queued or posted later is refused (calls fail, callbacks
/// are dropped). One lifecycle operation at a time: the registry runs them on its control queue.
final class Mailbox: @unchecked Sendable {
    /// Worker threads of a concurrent mailbox.
    static let concurrentWorkers = 4

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue = Deque<Job>()
    /// Calls parked by `holdCalls()`, in arrival order.
    private var held = Deque<Job>()
    private var holding = false
    private var paused = false
    private var closed = false
    private var running = 0
    /// Threads in `waitUntilIdle`: a worker that leaves the mailbox idle wakes them.
    private var idleWaiters = 0
    private var workers = 0
    private var idleWorkers = 0
    private var concurrent: Bool
    /// A serial worker's current batch (see `work`), or the call run in place (`claimInPlace`).
    private var inHand: [Job] = []
    /// A call of this serial mailbox is running on a thread that is not its worker (the control
    /// channel's reader, `claimInPlace`): the worker waits until it is done.
    private var inPlace = false
    /// The queue's one job was posted unannounced, for the thread that posted it to run
    /// (`DeferredRun`): the worker was not woken. Any other post wakes it; so does the sweep
    /// once the job has waited `deferredLimitNs` (`wakeIfDeferred`).
    private var deferred = false
    private var deferredAt: UInt64 = 0
    /// No waiting call with a deadline of its own (`call_v2`) is due before this (monotonic ns;
    /// a lower bound, lowered when one is posted, recomputed by a full sweep): only such a call
    /// can be due behind one that is not, so the sweep looks past the front only once it is.
    private var earliestCallerDeadline = UInt64.max
    /// Mirrors `paused || closed`, checked by a worker between the jobs of a batch.
    private let stopFlag = Atomic<Bool>(false)
    private let name: String
    /// Whether `DeferredRun` may take this mailbox's jobs (not a shadow's).
    private let deferrable: Bool
    private let execute: @Sendable (Job) -> Void
    private let refuse: @Sendable (Job) -> Void

    /// - Parameters:
    ///   - execute: runs a job, on a worker thread.
    ///   - refuse: disposes of a job the closed mailbox will not run (fails a call).
    init(name: String, concurrent: Bool, deferrable: Bool = true, execute: @escaping @Sendable (Job) -> Void,
         refuse: @escaping @Sendable (Job) -> Void) {
        self.name = name
        self.deferrable = deferrable
        self.concurrent = concurrent
        self.execute = execute
        self.refuse = refuse
    }

    /// How long a deferred job may wait for the thread that took it over before the sweep wakes
    /// the worker (the sweep runs every 50 ms, so it may wait that long at worst).
    static let deferredLimitNs: UInt64 = 1_000_000

    /// Queues a job and wakes a worker; or, for a deferrable mailbox, a thread running a call in
    /// place takes it over, to run once its call is done (`DeferredRun`).
    func post(_ job: Job) {
        if deferrable && DeferredRun.offer(job, to: self) { return }
        condition.lock()
        if closed {
            condition.unlock()
            refuse(job)
            return
        }
        if case .call(let call) = job, call.timeout.fromCaller { earliestCallerDeadline = min(earliestCallerDeadline, call.deadline) }
        if holding, case .call = job {
            held.append(job)
        } else {
            queue.append(job)
            deferred = false
            wakeWorker()
        }
        condition.unlock()
    }

    /// Queues `job` without waking a worker, if the mailbox is serial and idle (nothing queued,
    /// held or running, not paused, holding or closed); the caller then runs it (`runDeferred`)
    /// or wakes the worker (`wakeDeferred`). False leaves everything as it was.
    func postDeferred(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !deferred, queue.isEmpty, isFreeSerial else { return false }
        if case .call(let call) = job, call.timeout.fromCaller { earliestCallerDeadline = min(earliestCallerDeadline, call.deadline) }
        queue.append(job)
        deferred = true
        deferredAt = DispatchTime.now().uptimeNanoseconds
        return true
    }

    /// Runs the deferred job on the calling thread (as `runInPlace` does), unless a worker was
    /// woken for it meanwhile.
    func runDeferred() {
        condition.lock()
        guard deferred else { return condition.unlock() }
        deferred = false
        guard !queue.isEmpty, isFreeSerial else {
            if !queue.isEmpty { wakeWorker() }
            return condition.unlock()
        }
        running += 1
        inPlace = true
        condition.unlock()
        finishInPlace()  // runs what is queued: the deferred job, and what came behind it
    }

    /// Wakes the worker for a deferred job the thread that took it will not run.
    func wakeDeferred() {
        condition.lock()
        if deferred {
            deferred = false
            wakeWorker()
        }
        condition.unlock()
    }

    /// The sweep: wakes the worker for a deferred job that has waited past `deferredLimitNs`.
    func wakeIfDeferred(now: UInt64) {
        condition.lock()
        if deferred && now &- deferredAt > Self.deferredLimitNs {
            deferred = false
            wakeWorker()
        }
        condition.unlock()
    }

    /// Queues calls in order with one lock and one wake-up (the control channel gathers the calls
    /// of each chunk it reads).
    func post(calls: [Call]) {
        condition.lock()
        if closed {
            condition.unlock()
            for call in calls { refuse(.call(call)) }
            return
        }
        if holding {
            for call in calls { held.append(.call(call)) }
        } else {
            for call in calls { queue.append(.call(call)) }
            deferred = false
            wakeWorker()
        }
        condition.unlock()
    }

    /// Claims the idle mailbox for `call`, to be run on the calling thread by `runInPlace`: the
    /// reader of a client runs a call itself rather than wake the worker (no thread hand-off on
    /// the idle one-at-a-time path). Only a serial mailbox with nothing queued, held or running,
    /// and not paused, holding (a swap) or closed, is claimed; false leaves everything as it was
    /// (post the call instead). From the claim on, jobs posted wait behind the call, in order.
    func claimInPlace(_ call: Call) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard queue.isEmpty, isFreeSerial else { return false }
        running += 1
        inPlace = true
        inHand = [.call(call)]
        return true
    }

    /// A serial mailbox that nothing runs in, nothing is held for, and that is not paused,
    /// holding (a swap) or closed: a thread may claim it (`claimInPlace`, `runDeferred`).
    /// Must hold `condition`.
    private var isFreeSerial: Bool {
        !concurrent && !closed && !paused && !holding && !inPlace && running == 0 && held.isEmpty
    }

    /// Takes everything queued as the batch in hand (a serial worker's, or a thread running
    /// in place). Must hold `condition`.
    private func takeQueue() -> [Job] {
        let batch = Array(queue)
        queue.removeAll(keepingCapacity: true)
        inHand = batch
        deferred = false
        return batch
    }

    /// Runs `batch` in order until a pause or close asks to stop; returns how many ran. Without
    /// `condition`.
    private func run(_ batch: [Job]) -> Int {
        var next = 0
        while next < batch.count {
            execute(batch[next])
            next += 1
            if stopFlag.load(ordering: .relaxed) { break }
        }
        return next
    }

    /// Runs the call `claimInPlace` claimed, on the calling thread. What was posted meanwhile
    /// (often the client's next call, read while this one's answer was on its way) runs here too,
    /// one batch of it, rather than wake the worker; anything later goes to the worker.
    func runInPlace(_ call: Call) {
        execute(.call(call))
        finishInPlace()
    }

    /// After a call or job run in place: one batch of what was posted meanwhile, then the
    /// mailbox is given back to its worker.
    private func finishInPlace() {
        condition.lock()
        if !queue.isEmpty && !paused && !closed {
            let batch = takeQueue()
            condition.unlock()
            let ran = run(batch)
            condition.lock()
            if ran < batch.count { queue.insert(contentsOf: batch[ran...], at: 0) }
        }
        running -= 1
        inPlace = false
        inHand = []
        if !queue.isEmpty { wakeWorker() }
        if running == 0 && (paused || (idleWaiters > 0 && queue.isEmpty && held.isEmpty)) { condition.broadcast() }
        condition.unlock()
    }

    /// Holds new jobs in the queue and waits until no job is running, up to `timeout`.
    /// Returns false (still paused) if a job is still running then: a plugin blocked in a call.
    /// - Important: never call it from a job of this mailbox.
    @discardableResult
    func pause(timeout: Duration = .seconds(3600)) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        paused = true
        stopFlag.store(true, ordering: .relaxed)
        while running > 0 {
            if !condition.wait(until: deadline) { return running == 0 }
        }
        return true
    }

    /// Runs the queued jobs, in order, and accepts new ones again.
    func resume() {
        condition.lock()
        paused = false
        stopFlag.store(closed, ordering: .relaxed)
        wakeWorker()
        condition.unlock()
    }

    /// Parks calls, queued and new, until `releaseCalls()`; other jobs still run after `resume()`.
    /// Call it while paused.
    func holdCalls() {
        condition.lock()
        holding = true
        var others = Deque<Job>()
        while let job = queue.popFirst() {
            if case .call = job { held.append(job) } else { others.append(job) }
        }
        queue = others
        condition.unlock()
    }

    /// Puts the parked calls back in front of the queue, in order. Call it while paused, then
    /// `resume()`.
    func releaseCalls() {
        condition.lock()
        holding = false
        held.append(contentsOf: queue)
        queue = held
        held.removeAll()
        condition.unlock()
    }

    /// Switches between serial and concurrent execution (a new plugin version may differ).
    /// Call it while paused.
    func setConcurrent(_ value: Bool) {
        condition.lock()
        concurrent = value
        condition.unlock()
    }

    /// Ends the mailbox: queued, parked and later jobs are refused; workers exit once idle.
    /// Does not wait for a running job; the calls a worker took with it and has not started
    /// (stuck behind it) are refused too, so they never wait for a plugin that may never return.
    func close() {
        condition.lock()
        closed = true
        deferred = false
        stopFlag.store(true, ordering: .relaxed)
        // Refusing claims each call: the worker skips the ones it has not started, and the one
        // it is running is claimed already, so refusing it does nothing.
        let taken = inHand.filter { if case .call = $0 { true } else { false } }
        let jobs = Array(held) + Array(queue) + taken
        held.removeAll()
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
        jobs.forEach(refuse)
    }

    /// Claims and returns the waiting calls (queued, parked, or taken by a worker and not
    /// started yet) whose deadline is at or before `now` (monotonic nanoseconds).
    ///
    /// Calls with the host's timeout arrive in the order of their deadlines, so usually only the
    /// front of each list is looked at: a call whose deadline has not passed ends the sweep of
    /// its list. Once a call with a deadline of its own (`call_v2`, maybe shorter) is due, every
    /// call is looked at, and the next such deadline noted.
    func takeCalls(dueBy now: UInt64) -> [Call] {
        condition.lock()
        defer { condition.unlock() }
        var expired: [Call] = []
        let everyCall = earliestCallerDeadline <= now
        var nextCallerDeadline = UInt64.max
        func sweep(_ jobs: inout Deque<Job>) {
            var kept: [Job] = []
            while let job = jobs.first {
                if case .call(let call) = job {
                    if call.deadline > now {
                        guard everyCall else { break }
                        if call.timeout.fromCaller { nextCallerDeadline = min(nextCallerDeadline, call.deadline) }
                        kept.append(job)
                    } else if call.claim() {
                        expired.append(call)
                    }
                } else {
                    kept.append(job)
                }
                jobs.removeFirst()
            }
            jobs.insert(contentsOf: kept, at: 0)
        }
        sweep(&held)
        sweep(&queue)
        // A worker's batch: calls it has not started are claimed here and skipped by it.
        for job in inHand {
            guard case .call(let call) = job else { continue }
            if call.deadline > now {
                guard everyCall else { break }
                if call.timeout.fromCaller { nextCallerDeadline = min(nextCallerDeadline, call.deadline) }
            } else if call.claim() {
                expired.append(call)
            }
        }
        if everyCall { earliestCallerDeadline = nextCallerDeadline }
        return expired
    }

    var queuedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count + held.count
    }

    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return queue.isEmpty && held.isEmpty && running == 0
    }

    /// Waits until nothing is queued, parked or running, or `deadline` passes; returns whether
    /// the mailbox is idle. Woken by the worker that finishes the last job, not by polling.
    func waitUntilIdle(until deadline: ContinuousClock.Instant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        idleWaiters += 1
        defer { idleWaiters -= 1 }
        while !(queue.isEmpty && held.isEmpty && running == 0) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            _ = condition.wait(until: Date(timeIntervalSinceNow: left.seconds))
        }
        return true
    }

    /// Wakes an idle worker or starts one, up to the limit. Must hold `condition`.
    private func wakeWorker() {
        guard !paused, !inPlace else { return }  // `runInPlace` wakes it once its call is done
        if idleWorkers > 0 {
            // A shutdown's `waitUntilIdle` sleeps on this condition too: a signal could wake it
            // instead of a worker, so broadcast while one waits.
            if idleWaiters > 0 { condition.broadcast() } else { condition.signal() }
        } else if workers < (concurrent ? Self.concurrentWorkers : 1) {
            workers += 1
            let thread = Thread { [self] in
                CrashReport.prepareThread()
                work()
            }
            thread.name = "modhost-\(name)"
            thread.start()
        }
    }

    /// A worker takes everything queued at once (one lock for many jobs) and runs it in order.
    /// The batch stays visible as `inHand`, so the call timeout still reaches calls waiting in
    /// it (they are claimed, see `Call.claim`); a pause or close puts what was not run back in
    /// front of the queue.
    private func work() {
        condition.lock()
        while !closed {
            if paused || queue.isEmpty || inPlace {
                idleWorkers += 1
                condition.wait()
                idleWorkers -= 1
                continue
            }
            let batch: [Job]
            if concurrent {
                batch = [queue.removeFirst()]
                // One wake-up may have posted several jobs (a chunk's calls): hand the next one
                // to another worker rather than leave it queued behind this one.
                if !queue.isEmpty { wakeWorker() }
            } else {
                batch = takeQueue()
            }
            deferred = false
            running += 1
            condition.unlock()
            let ran = run(batch)
            condition.lock()
            running -= 1
            if !concurrent { inHand = [] }
            if ran < batch.count {
                queue.insert(contentsOf: batch[ran...], at: 0)
            }
            if running == 0 && (paused || (idleWaiters > 0 && queue.isEmpty && held.isEmpty)) { condition.broadcast() }
        }
        workers -= 1
        // Closed while jobs were put back: refuse them like everything else queued.
        let leftovers = Array(queue)
        queue.removeAll()
        condition.unlock()
        leftovers.forEach(refuse)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// A unit of work for a module.
enum Job: Sendable {
    case call(Call)
    /// An event, a timer firing or a reply: runs on the instance that subscribed, started the
    /// timer or made the call, if it is still alive.
    case callback(ModuleContext, Callback)
}

enum Callback: @unchecked Sendable {
    case event(Event)
    case timer(TimerFiring)
    case reply(fn: mh_reply_fn, user: UnsafeMutableRawPointer?, code: Int32, json: [UInt8])
}
