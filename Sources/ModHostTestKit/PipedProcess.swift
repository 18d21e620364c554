import Foundation

/// A child process with raw pipes, read and written by the caller directly: for benchmarks, and
/// for tests that must control when the child's output is read (a client that stops reading).
/// `HostProcess` is the convenient driver for everything else.
public final class PipedProcess: @unchecked Sendable {
    public let process: ChildProcess
    private let input: PipeEnd
    private let output: PipeEnd

    /// - Parameters:
    ///   - stderrPath: a file that receives the child's stderr; nil discards it.
    ///   - environment: variables set on top of this process's own.
    public init(_ executable: URL, _ arguments: [String], stderrPath: String? = nil, environment: [String: String] = [:]) throws {
        process = try ChildProcess(executable.path, arguments, environment: environment,
                                   stdin: .pipe, stdout: .pipe, stderr: stderrPath.map { .file($0) } ?? .null)
        input = process.standardInput!
        output = process.standardOutput!
    }

    /// The child's stdin (-1 once `stop()` closed it) and stdout, for reading and writing directly.
    public var writeFD: Int32 { input.descriptor }
    public var readFD: Int32 { output.descriptor }

    /// Writes all of `bytes` (blocking while the child does not read); false if the child's
    /// input closed first.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(writeFD, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }

    /// Reads until `count` newlines have arrived.
    public func readLines(_ count: Int, buffer: UnsafeMutableRawBufferPointer) {
        var seen = 0
        while seen < count {
            let n = read(readFD, buffer.baseAddress!, buffer.count)
            guard n > 0 else { fatalError("child closed its output after \(seen) of \(count) lines") }
            for byte in UnsafeRawBufferPointer(rebasing: buffer[0..<n]) where byte == 0x0A { seen += 1 }
        }
    }

    /// Reads one line (without its newline), buffering what comes after it.
    public func readLine() -> String {
        var scanned = 0
        while true {
            if let newline = pending[scanned...].firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            scanned = pending.count
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(readFD, &chunk, chunk.count)
            guard n > 0 else { fatalError("child closed its output") }
            pending.append(contentsOf: chunk[0..<n])
        }
    }
    private var pending: [UInt8] = []

    /// Reads one line like `readLine()`, but throws instead of blocking past `timeout` seconds or
    /// trapping when the child closes its output: for tests, so a child that never prints fails
    /// the test rather than hanging the suite.
    public func readLine(timeout: TimeInterval, what: String = "a line") throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var scanned = 0
        while true {
            if let newline = pending[scanned...].firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            scanned = pending.count
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw HostProcessError("timed out after \(timeout) s waiting for \(what) from the child") }
            var poller = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left * 1_000, 1_000)) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(readFD, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HostProcessError("the child closed its output while \(what) was awaited") }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    public func send(_ line: String) {
        write(Array((line + "\n").utf8))
    }

    /// The child's resident memory now and at its peak, in bytes (`VmRSS`, `VmHWM`).
    public func memory() -> (resident: Int, peak: Int)? { ProcFS.memory(of: process.pid) }

    /// CPU time the child has used so far, all threads, user and system, in seconds.
    public func cpuSeconds() -> Double? { ProcFS.cpuSeconds(of: process.pid) }

    /// Closes the child's input (end of input) and waits for it to exit.
    public func stop() {
        input.close()
        process.wait()
    }
}
