import Foundation

/// Writes protocol lines to the control channel's file descriptor from a dedicated thread.
///
/// Any thread may append; appends coalesce in a buffer that the writer thread hands to `write(2)`
/// in one piece, so a burst of responses costs one system call. Nothing else writes to this
/// descriptor: it is a duplicate of the original stdout, and fd 1 itself points at stderr.
///
/// Backpressure: past `highWaterBytes` unwritten, appenders wait for the reader of the channel
/// to catch up (a client that stops reading stops the host's work, not its memory).
final class OutputWriter: @unchecked Sendable {
    static let highWaterBytes = 32 << 20
    private let fd: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var buffer: [UInt8] = []
    private var writerWaiting = false
    private var writing = false
    private var closed = false
    private var broken = false
    private let onBroken: @Sendable () -> Void

    /// - Parameter onBroken: called once if the reader of the channel goes away (EPIPE).
    init(fd: Int32, onBroken: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.onBroken = onBroken
        buffer.reserveCapacity(1 << 16)
        let thread = Thread { [self] in
            CrashReport.prepareThread()
            self.run()
        }
        thread.name = "modhost-output"
        thread.start()
    }

    /// Appends one protocol line; `body` appends the message bytes (no newline) to the buffer.
    @inline(__always)
    func writeLine(_ body: (inout [UInt8]) -> Void) {
        condition.lock()
        while buffer.count > Self.highWaterBytes && !broken && !closed {
            condition.wait()
        }
        body(&buffer)
        buffer.append(UInt8(ascii: "\n"))
        if writerWaiting { condition.signal() }
        condition.unlock()
    }

    func writeLine(_ bytes: [UInt8]) {
        writeLine { $0.append(contentsOf: bytes) }
    }

    /// Blocks until everything appended so far has been written, then stops the writer.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while !buffer.isEmpty || writing {
            condition.wait()
        }
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
                condition.broadcast()
                condition.unlock()
                return
            }
            swap(&buffer, &pending)
            writing = true
            let discard = broken
            if pending.count > Self.highWaterBytes { condition.broadcast() }
            condition.unlock()

            if !discard { writeAll(pending) }
            pending.removeAll(keepingCapacity: true)

            condition.lock()
            writing = false
            if buffer.isEmpty { condition.broadcast() }
            condition.unlock()
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
