import DequeModule
import Dispatch
import Foundation
import Synchronization
import CModHost

/// The work queue of one module: calls, events, timer firings and replies run through it.
///
/// A serial mailbox runs one job at a time, in the order posted, on a pool thread (this is how
/// "calls to one module are serialized, different modules run in parallel" is kept). A concurrent
/// mailbox (the plugin set `MH_FLAG_CONCURRENT`) runs each job as soon as it is posted.
/// `pause()` holds new jobs back and waits until none is running, for lifecycle changes.
final class Mailbox: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue = Deque<Job>()
    private var scheduled = false
    private var paused = false
    private var running = 0
    private let pausedFlag = Atomic<Bool>(false)
    private let concurrent: Bool
    private let execute: @Sendable (Job) -> Void

    init(concurrent: Bool, execute: @escaping @Sendable (Job) -> Void) {
        self.concurrent = concurrent
        self.execute = execute
    }

    func post(_ job: Job) {
        condition.lock()
        if paused {
            queue.append(job)
            condition.unlock()
        } else if concurrent {
            running += 1
            condition.unlock()
            DispatchQueue.global().async { self.runOne(job) }
        } else {
            queue.append(job)
            let start = !scheduled
            scheduled = true
            condition.unlock()
            if start { DispatchQueue.global().async { self.drain() } }
        }
    }

    /// Holds new jobs in the queue and returns once no job is running.
    /// - Important: never call it from a job of this mailbox.
    func pause() {
        condition.lock()
        paused = true
        pausedFlag.store(true, ordering: .relaxed)
        while scheduled || running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Runs the queued jobs, in order, and accepts new ones again.
    func resume() {
        condition.lock()
        paused = false
        pausedFlag.store(false, ordering: .relaxed)
        if concurrent {
            let jobs = queue
            queue.removeAll()
            running += jobs.count
            condition.unlock()
            for job in jobs { DispatchQueue.global().async { self.runOne(job) } }
            return
        }
        let start = !queue.isEmpty && !scheduled
        if start { scheduled = true }
        condition.unlock()
        if start { DispatchQueue.global().async { self.drain() } }
    }

    /// Removes and returns every queued job (the mailbox should be paused).
    func takeQueued() -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        let jobs = Array(queue)
        queue.removeAll()
        return jobs
    }

    var queuedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    private func runOne(_ job: Job) {
        execute(job)
        condition.lock()
        running -= 1
        if running == 0 { condition.broadcast() }
        condition.unlock()
    }

    private func drain() {
        var batch = Deque<Job>()
        condition.lock()
        while !paused && !queue.isEmpty {
            swap(&queue, &batch)
            condition.unlock()
            while let job = batch.popFirst() {
                execute(job)
                if pausedFlag.load(ordering: .relaxed) { break }
            }
            condition.lock()
            if !batch.isEmpty {
                // Paused mid-batch: what was not run goes back in front, in order.
                batch.append(contentsOf: queue)
                swap(&queue, &batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        scheduled = false
        condition.broadcast()
        condition.unlock()
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
    /// Host-internal work that must not interleave with the module's calls (manual-clock sync).
    case run(@Sendable () -> Void)
}
