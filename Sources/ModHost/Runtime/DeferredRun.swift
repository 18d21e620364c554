import CModHostShims

/// One more hand-off skipped on the idle path (issue 17): a job that a call run in place posts
/// to another idle serial module (a call to it, the reply to a call it made, an event) runs on
/// the same thread once that call is done, instead of waking the other module's worker. So a
/// call through an inter-module hop (`routing.select` asking `health`) runs caller, callee and
/// reply on the thread that read it.
///
/// Only a thread that runs calls in place opens a deferred run (the control channel's reader,
/// around `Mailbox.runInPlace`), and it takes over at most one job at a time: a plugin that
/// calls several modules at once has the others run on their own workers, in parallel. The job
/// waits in its mailbox's queue, unannounced (`Mailbox.postDeferred`): anything else posted to
/// that mailbox wakes its worker as usual, which then runs it too, and the call sweep wakes the
/// worker of a job that waited past `Mailbox.deferredLimitNs` (a plugin that called and then
/// kept its thread busy), so no module waits for long on another's thread.
enum DeferredRun {
    /// Opens the thread's deferred run (before running a call in place).
    @inline(__always)
    static func open() { mh_shim_defer_set_open(1) }

    /// Offers `job` for `mailbox` to the thread's deferred run; true if it took it (queued
    /// unannounced, to run in `drain`).
    @inline(__always)
    static func offer(_ job: Job, to mailbox: Mailbox) -> Bool {
        guard mh_shim_defer_open() != 0, mh_shim_defer_pending() == nil, mailbox.postDeferred(job) else { return false }
        mh_shim_defer_set_pending(Unmanaged.passRetained(mailbox).toOpaque())
        return true
    }

    /// Runs what the thread took over (and what that posts, in turn), then closes the run.
    static func drain() {
        // Bounded: a chain of replies and calls between modules that never ends goes to the
        // workers after this many hops.
        for _ in 0..<64 {
            guard let pending = mh_shim_defer_pending() else { break }
            mh_shim_defer_set_pending(nil)
            Unmanaged<Mailbox>.fromOpaque(pending).takeRetainedValue().runDeferred()
        }
        mh_shim_defer_set_open(0)
        if let pending = mh_shim_defer_pending() {
            mh_shim_defer_set_pending(nil)
            Unmanaged<Mailbox>.fromOpaque(pending).takeRetainedValue().wakeDeferred()
        }
    }
}
