import CModHostShims
import Foundation
import Synchronization

/// Writes protocol lines to one client's file descriptor, from the thread that has the line when
/// nothing is waiting to be written, else from a dedicated thread.
///
/// Any thread may append. A line appended with `now` (the reply to a client's only call in the
/// host: nothing else of its is coming) while nothing else is queued or being written is written
/// at once from that thread, as much of it as the descriptor takes without blocking
/// (`RWF_NOWAIT`): no wake-up of the writer thread on the idle one-at-a-time path. The rest, and
/// every other line, coalesce in a buffer that the writer thread hands to `write(2)` in one
/// piece, so a burst of responses (a pipelining client) costs one system call. Nothing else writes to this
/// descriptor: for stdio it is a duplicate of the original stdout, and fd 1 itself points at
/// stderr.
///
/// Appending never blocks: the bounds on what may wait here are kept upstream, by the client's
/// reader (`ChannelClient`: it stops reading a client whose output piles up) and by dropping
/// events. After a burst, buffers over `retainedCapacity` are released, so one huge reply does
/// not keep its memory for the life of the host.
final class OutputWriter: @unchecked Sendable {
    /// Buffers keep at most this much capacity once written out.
    static let retainedCapacity = 1 << 20

    private let fd: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var buffer: [UInt8] = []
    private var writerWaiting = false
    private var writing = false
    private var closed = false
    private var broken = false
    /// The writer thread has returned: nothing touches `fd` any more (its owner may close it),
    /// and lines appended from now on are dropped.
    private var stopped = false
    /// Lines may be written from the appending thread (false once the descriptor refused a
    /// non-blocking write: not a pipe or socket, or an old kernel).
    private var direct = true
    /// Bytes appended and not yet written (the buffer plus the chunk being written).
    private let unwritten = Atomic<Int>(0)
    private let lowWater: Int
    private let onBroken: @Sendable () -> Void
    private let onDrained: @Sendable () -> Void

    /// - Parameters:
    ///   - lowWater: `onDrained` is called, on the writer thread, after each write that leaves at
    ///     most this many bytes unwritten.
    ///   - onBroken: called once if the reader of the channel goes away (EPIPE).
    init(fd: Int32, lowWater: Int = 0, onBroken: @escaping @Sendable () -> Void, onDrained: @escaping @Sendable () -> Void = {}) {
        self.fd = fd
        self.lowWater = lowWater
        self.onBroken = onBroken
        self.onDrained = onDrained
        buffer.reserveCapacity(1 << 16)
        let thread = Thread { [self] in
            CrashReport.prepareThread()
            self.run()
        }
        thread.name = "modhost-output"
        thread.start()
    }

    /// Bytes waiting to be written; read without a lock (a snapshot).
    var unwrittenBytes: Int { unwritten.load(ordering: .sequentiallyConsistent) }

    /// Appends one protocol line; `body` appends the message bytes (no newline) to the buffer.
    /// With `now`, a line with nothing ahead of it is written from the calling thread. `queued`
    /// runs once the line is in the buffer (or dropped), before any of it is written.
    @inline(__always)
    func writeLine(now: Bool = false, queued: () -> Void = {}, _ body: (inout [UInt8]) -> Void) {
        condition.lock()
        if stopped {
            // A late reply for a client that is gone: dropped, never written anywhere.
            condition.unlock()
            queued()
            return
        }
        let before = buffer.count
        body(&buffer)
        buffer.append(UInt8(ascii: "\n"))
        queued()
        if now && before == 0 && direct && !writing && !broken && !closed {
            // Nothing ahead of it: write it from here, without blocking, under the lock (so no
            // other line can pass it).
            let written = buffer.withUnsafeBytes { mh_shim_write_nowait(fd, $0.baseAddress!, $0.count) }
            if written == buffer.count {
                Self.empty(&buffer)
                condition.unlock()
                return
            }
            if written > 0 {
                buffer.removeFirst(written)
            } else if errno != EAGAIN {
                // This descriptor cannot (or fails): the writer thread writes from now on, and
                // reports a broken output as usual.
                direct = false
            }
        }
        unwritten.add(buffer.count - before, ordering: .relaxed)
        if writerWaiting { condition.signal() }
        condition.unlock()
    }

    func writeLine(_ bytes: [UInt8]) {
        writeLine { $0.append(contentsOf: bytes) }
    }

    /// Waits until everything appended so far has been written (or `timeout` passed, for a
    /// client that stopped reading), then stops the writer.
    func close(timeout: Duration = .seconds(3600)) {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        condition.lock()
        closed = true
        condition.broadcast()
        while !buffer.isEmpty || writing {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    /// Drops what is still unwritten and what comes later, without writing it: the client went
    /// away. A `write` in progress is left to finish or fail (`shutdown` the socket to end it).
    func discard() {
        condition.lock()
        broken = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the writer thread has returned (after `close`), so the descriptor can be
    /// closed without a write reaching whatever is opened under the same number next.
    func waitUntilStopped() {
        condition.lock()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func run() {
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 16)
        while true {
            condition.lock()
            while buffer.isEmpty && !closed {
                writerWaiting = true
                condition.wait()
                writerWaiting = false
            }
            if buffer.isEmpty && closed {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            swap(&buffer, &pending)
            writing = true
            let discard = broken
            condition.unlock()

            if !discard { writeAll(pending) }
            let remaining = unwritten.subtract(pending.count, ordering: .sequentiallyConsistent).newValue
            Self.empty(&pending)

            condition.lock()
            writing = false
            if buffer.isEmpty { condition.broadcast() }
            condition.unlock()
            if remaining <= lowWater { onDrained() }
        }
    }

    /// Empties a written buffer, giving its memory back if a burst made it large.
    private static func empty(_ bytes: inout [UInt8]) {
        if bytes.capacity <= retainedCapacity {
            bytes.removeAll(keepingCapacity: true)
        } else {
            bytes = []
            bytes.reserveCapacity(1 << 16)
            ReleaseMemory.afterLargeBuffer()
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    condition.lock()
                    let first = !broken
                    broken = true
                    condition.broadcast()
                    condition.unlock()
                    if first { onBroken() }
                    return
                }
            }
        }
    }
}

/// Returning freed memory to the system after a large buffer is let go.
enum ReleaseMemory {
    /// When the last trim ran (monotonic ns).
    private static let lastTrim = Atomic<UInt64>(0)

    /// glibc keeps freed heap memory mapped (and resident) for reuse; after a burst that grew a
    /// buffer past a MiB, trimming gives it back. A trim walks every arena under its lock, so it
    /// runs at most once a second, however often buffers are let go under steady load.
    static func afterLargeBuffer() {
        let now = DispatchTime.now().uptimeNanoseconds
        let last = lastTrim.load(ordering: .relaxed)
        guard now &- last >= 1_000_000_000, lastTrim.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else {
            return
        }
        _ = mh_shim_malloc_trim()
    }
}
