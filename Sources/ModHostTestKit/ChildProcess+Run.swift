import Foundation

extension ChildProcess {
    /// What `run` collected: how the child ended and everything it wrote to its pipes.
    public struct Output: Sendable, CustomStringConvertible {
        public let termination: Termination
        public let stdout: Data
        public let stderr: Data

        /// The exit status, or the signal that ended the child.
        public var status: Int32 {
            switch termination {
            case .exited(let code), .signaled(let code): code
            }
        }
        public var out: String { String(decoding: stdout, as: UTF8.self) }
        public var err: String { String(decoding: stderr, as: UTF8.self) }
        public var description: String { "\(termination); stdout: \(out); stderr: \(err)" }
    }

    /// Runs a program to its end, reading its stdout and stderr pipes at once (neither can fill
    /// up while the other is read). Its stdin is /dev/null unless told.
    /// - Parameter timeout: after this many seconds the child gets SIGTERM (a backstop for a
    ///   child that hangs); its output is still read to the end.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        stdin: Stdio = .null, stdout: Stdio = .pipe, stderr: Stdio = .pipe, timeout: TimeInterval? = nil
    ) throws -> Output {
        let child = try ChildProcess(executable, arguments, environment: environment, directory: directory,
                                     stdin: stdin, stdout: stdout, stderr: stderr)
        var deadline: Date? = timeout.map { Date(timeIntervalSinceNow: $0) }
        var collected: [Data] = [Data(), Data()]
        var open = [child.standardOutput, child.standardError]
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while open.contains(where: { $0 != nil }) {
            var polled = open.map { pollfd(fd: $0?.descriptor ?? -1, events: Int16(POLLIN), revents: 0) }
            var wait: Int32 = -1
            if let end = deadline {
                let left = end.timeIntervalSinceNow
                if left <= 0 {
                    child.terminate()
                    deadline = nil
                } else {
                    wait = Int32(min(left * 1_000, 1_000)) + 1
                }
            }
            let ready = poll(&polled, nfds_t(polled.count), wait)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            for index in polled.indices where polled[index].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(polled[index].fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n > 0 {
                    collected[index].append(contentsOf: chunk[0..<n])
                } else {
                    open[index]?.close()
                    open[index] = nil
                }
            }
        }
        return Output(termination: child.wait(), stdout: collected[0], stderr: collected[1])
    }
}
