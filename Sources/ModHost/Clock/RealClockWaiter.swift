import CModHostShims
import Foundation
import ModHostSupport

/// How the real-clock timer thread sleeps: on the monotonic clock, so a wall-clock step never
/// stretches or cuts a wait, and woken early when the wall clock is set or a nearer timer
/// starts.
///
/// - The wait is `poll` with a timeout, which Linux measures on `CLOCK_MONOTONIC`.
/// - A `CLOCK_REALTIME` timerfd armed far ahead with `TFD_TIMER_ABSTIME |
///   TFD_TIMER_CANCEL_ON_SET` becomes readable (its read fails with `ECANCELED`) when someone
///   sets the wall clock (`settimeofday`, `clock_settime`, an NTP step), so the thread looks at
///   the clock at once rather than at its next timer.
/// - A pipe wakes it for a new timer due before the one it sleeps for, and at shutdown.
///
/// The kernel's notice is only a prompt: the thread decides what happened by comparing
/// `CLOCK_REALTIME − CLOCK_MONOTONIC` at every wake-up (`wallMinusMonotonicMs`), which also
/// catches a step the kernel cannot report (an `LD_PRELOAD`ed clock in the tests, a suspend).
///
/// Used by one thread (the timer thread) except `wake()`, which any thread may call.
final class RealClockWaiter: @unchecked Sendable {
    /// The longest single wait; a longer one is just a wake-up that finds nothing due.
    static let longestWaitMs: Int64 = 3_600_000
    /// How far ahead the step-notice timer is armed (a year); re-armed when it fires or is cancelled.
    private static let noticeHorizonSeconds = 365 * 86_400

    private var pipe: (read: Int32, write: Int32) = (-1, -1)
    private var stepNotice: Int32 = -1

    init() {
        var fds: [Int32] = [-1, -1]
        if Glibc.pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
            pipe = (fds[0], fds[1])
        }
        stepNotice = mh_shim_timerfd_create(CLOCK_REALTIME, MH_SHIM_TFD_CLOEXEC | MH_SHIM_TFD_NONBLOCK)
        armStepNotice()
    }

    /// Sleeps until `timeoutMs` passed on the monotonic clock (nil: until woken), the wall clock
    /// was set, or `wake()` was called.
    func wait(timeoutMs: Int64?) {
        var fds = [pollfd(fd: pipe.read, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: stepNotice, events: Int16(POLLIN), revents: 0)]
        let timeout = timeoutMs.map { Int32(min(max($0, 0), Self.longestWaitMs)) } ?? Int32(Self.longestWaitMs)
        guard poll(&fds, nfds_t(fds.count), timeout) > 0 else { return }
        if fds[0].revents != 0 {
            var bytes = [UInt8](repeating: 0, count: 64)
            while read(pipe.read, &bytes, bytes.count) > 0 {}
        }
        if fds[1].revents != 0 {
            var expirations: UInt64 = 0
            // ECANCELED: the wall clock was set; a value: the year is over. Either way, re-arm.
            _ = read(stepNotice, &expirations, MemoryLayout<UInt64>.size)
            armStepNotice()
        }
    }

    /// Cuts the current (or next) wait short. Any thread.
    func wake() {
        var byte: UInt8 = 1
        _ = write(pipe.write, &byte, 1)
    }

    func close() {
        for fd in [pipe.read, pipe.write, stepNotice] where fd >= 0 { Glibc.close(fd) }
        pipe = (-1, -1)
        stepNotice = -1
    }

    private func armStepNotice() {
        guard stepNotice >= 0 else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var value = itimerspec()
        value.it_value.tv_sec = now.tv_sec + Self.noticeHorizonSeconds
        _ = mh_shim_timerfd_settime(stepNotice, MH_SHIM_TFD_TIMER_ABSTIME | MH_SHIM_TFD_TIMER_CANCEL_ON_SET, &value, nil)
    }

    /// `CLOCK_REALTIME − CLOCK_MONOTONIC` in ms: constant while the wall clock runs at the pace
    /// of elapsed time; a step of the wall clock (or a suspend, which the monotonic clock does
    /// not count) moves it by the step. Read between two monotonic readings, again if a thread
    /// switch came between them, so a busy machine does not look like a step.
    static func wallMinusMonotonicMs() -> Int64 {
        var best: (spread: Int64, offset: Int64) = (.max, 0)
        for _ in 0..<4 {
            let before = monotonicNs()
            var wall = timespec()
            clock_gettime(CLOCK_REALTIME, &wall)
            let after = monotonicNs()
            let wallNs = Int64(wall.tv_sec).multipliedSaturating(by: 1_000_000_000).addingSaturating(Int64(wall.tv_nsec))
            let spread = after - before
            if spread < best.spread { best = (spread, (wallNs - (before + spread / 2)) / 1_000_000) }
            if spread < 200_000 { break }
        }
        return best.offset
    }

    private static func monotonicNs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
