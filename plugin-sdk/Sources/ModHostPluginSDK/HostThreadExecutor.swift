#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where an async handler runs: on the host thread that entered the plugin, not on a thread of
/// Swift's global pool.
///
/// The task of an async handler (`completeLater`) prefers this executor. A job of it enqueued
/// while a host thread is inside the plugin (its `handle`, an event, a timer, the reply to a
/// call it made) runs on that thread before the plugin returns to the host: the handler starts
/// in `handle`, and after `await host.call(...)` it goes on in the reply's callback. So a call
/// through another module wakes no thread of the pool (issue 17: `routing.select` asking
/// `health` twice used to cost about ten thread switches). A job enqueued from elsewhere (a
/// `URLSession` callback, a thread of the plugin's own) goes to the global pool, as before.
///
/// The handler's code therefore runs one piece at a time per host thread; work that must run
/// in parallel with the module's other entries belongs in a `Task.detached`.
final class HostThreadExecutor: TaskExecutor {
    static let shared = HostThreadExecutor()

    /// At most this many jobs run in one entry; the rest go to the global pool (a task that
    /// yields in a loop waiting for another thread must not hold the host thread).
    static let jobsPerEntry = 256

    func enqueue(_ job: consuming ExecutorJob) {
        if let thread = HostThread.entered, thread.jobs.count < Self.jobsPerEntry {
            thread.jobs.append(UnownedJob(job))
        } else {
            globalConcurrentExecutor.enqueue(job)
        }
    }
}

/// A host thread inside the plugin: the jobs enqueued for `HostThreadExecutor` meanwhile, run
/// when its outermost entry ends. Thread-local (each thread its own).
final class HostThread {
    private(set) var depth = 0
    fileprivate var jobs: [UnownedJob] = []

    /// One key per loaded image (each has its own copy of the SDK, and Swift images stay mapped),
    /// beside `CallSlot`'s: the process has 1,024. Nil once they ran out: then jobs go to the
    /// global pool, as without this executor.
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<HostThread>.fromOpaque(pointer).release() }
        }
        return created == 0 ? key : nil
    }()

    /// This thread's, when it is inside an entry.
    static var entered: HostThread? {
        guard let key, let pointer = pthread_getspecific(key) else { return nil }
        let thread = Unmanaged<HostThread>.fromOpaque(pointer).takeUnretainedValue()
        return thread.depth > 0 ? thread : nil
    }

    private static func current(_ key: pthread_key_t) -> HostThread {
        if let pointer = pthread_getspecific(key) { return Unmanaged<HostThread>.fromOpaque(pointer).takeUnretainedValue() }
        let thread = HostThread()
        pthread_setspecific(key, Unmanaged.passRetained(thread).toOpaque())
        return thread
    }

    /// Runs `body` (an entry from the host) and then, at the outermost entry, the jobs enqueued
    /// meanwhile, in order, and those they enqueue in turn.
    static func entry<T>(_ body: () throws -> T) rethrows -> T {
        guard let key else { return try body() }
        let thread = current(key)
        thread.depth += 1
        defer {
            if thread.depth == 1 { thread.runJobs() }
            thread.depth -= 1
        }
        return try body()
    }

    private func runJobs() {
        let executor = HostThreadExecutor.shared.asUnownedTaskExecutor()
        var next = 0
        while next < jobs.count {
            let job = jobs[next]
            next += 1
            job.runSynchronously(on: executor)
        }
        jobs.removeAll(keepingCapacity: true)
    }
}
