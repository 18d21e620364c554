import Foundation

/// Runs the real `modhost` binary and speaks JSON-lines to it, for end-to-end tests.
///
///     let host = try HostProcess(plugins: dir, extraArguments: ["--manual-clock"])
///     let status = try host.call("host.status")
///     try host.advanceClock(by: 30_000)
///     #expect(try host.shutdown() == 0)
///
/// Every wait has a timeout; a timeout or a dead host throws a `HostProcessError` whose text
/// includes the tail of the host's stderr, so a failing test says what the host said.
public final class HostProcess: RPCConnection, @unchecked Sendable {
    public let process: ChildProcess
    public let stateDirectory: String
    private let input: PipeEnd
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var lines: [String] = []
    private var allLines: [String] = []
    private var stderrData = Data()
    private var outputClosed = false
    private var errorsClosed = false
    private var nextID = 1

    /// - Parameters:
    ///   - plugins: the plugin directory (`--plugins`); nil uses the host's default.
    ///   - state: the state directory; nil makes a fresh temporary one.
    ///   - extraArguments: more command-line options.
    ///   - environment: variables to set for the host on top of the test's own.
    public init(
        plugins: String?, state: String? = nil, extraArguments: [String] = [], environment: [String: String] = [:],
        executable: URL? = nil
    ) throws {
        stateDirectory = try state ?? TemporaryDirectory.make(prefix: "modhost-state")
        var arguments = ["--state-dir", stateDirectory]
        if let plugins { arguments += ["--plugins", plugins] }
        // A host that exits early (refusing to start) must fail the test with an error, not
        // kill the test process with SIGPIPE on the next write to its stdin.
        Glibc.signal(SIGPIPE, SIG_IGN)
        process = try ChildProcess(try (executable ?? Self.locateExecutable()).path, arguments + extraArguments,
                                   environment: environment, stdin: .pipe, stdout: .pipe, stderr: .pipe)
        input = process.standardInput!
        // Each pipe is read on a thread of its own until end of file, which then closes it,
        // whether or not this object still exists (a host killed by `deinit` reaches its end of
        // file later): nothing of a finished host stays open for the rest of the test run.
        process.standardOutput!.startReading { [weak self] data in self?.receiveOutput(data) }
        process.standardError!.startReading { [weak self] data in
            guard let self else { return }
            condition.lock()
            if data.isEmpty { errorsClosed = true }
            stderrData.append(data)
            condition.broadcast()
            condition.unlock()
        }
    }

    deinit {
        process.terminate()
    }

    /// The `modhost` executable: `$MODHOST_BIN`, or the one built next to the running tests.
    public static func locateExecutable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["MODHOST_BIN"] { return URL(fileURLWithPath: path) }
        return try buildDirectory().appendingPathComponent("modhost")
    }

    /// The build products directory (`.build/debug` or `.build/release`), where `swift build` puts
    /// the executable and the Swift plugins.
    public static func buildDirectory() throws -> URL {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for directory in candidates where FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("modhost").path) {
            return directory
        }
        throw HostProcessError("modhost executable not found next to \(candidates.map(\.path)); run `swift build` first or set MODHOST_BIN")
    }

    // MARK: Sending

    /// Writes one raw line (a newline is added).
    public func send(raw line: String) throws {
        try send(bytes: Data((line + "\n").utf8))
    }

    public func send(bytes: Data) throws {
        do {
            try input.write(bytes)
        } catch {
            throw HostProcessError("could not write to the host: \(error)", stderr: stderrText)
        }
    }

    public func takeID() -> Int {
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        return nextID + 1_000_000
    }

    // MARK: Receiving

    /// Lines received and not consumed yet.
    public var unreadLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// Every line the host wrote to stdout so far, consumed or not.
    public var stdoutLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return allLines
    }

    /// Waits until the host's stderr contains `text` (stderr arrives on its own pipe, after or
    /// before stdout) and returns everything it has written so far.
    @discardableResult
    public func waitForStderr(containing text: String, timeout: TimeInterval = 20) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let written = String(decoding: stderrData, as: UTF8.self)
            if written.contains(text) { return written }
            if errorsClosed || !condition.wait(until: deadline) {
                throw HostProcessError("\(errorsClosed ? "stderr closed" : "timed out after \(timeout) s") waiting for \"\(text)\" on stderr", stderr: written)
            }
        }
    }

    public var stderrText: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    // MARK: Lifecycle

    /// Moves the manual clock (the host must run with `--manual-clock`).
    @discardableResult
    public func advanceClock(by ms: Int64) throws -> Int64 {
        try call("clock.advance", ["ms": .int(ms)])["nowMs"].int ?? -1
    }

    /// Closes stdin (end of input: the host shuts down gracefully) and returns the exit status.
    @discardableResult
    public func shutdown(timeout: TimeInterval = 30) throws -> Int32 {
        input.close()
        return try waitForExit(timeout: timeout)
    }

    /// Closes the host's stdin without waiting for it to exit.
    public func closeInput() {
        input.close()
    }

    /// Sends a signal (SIGTERM, SIGINT, SIGKILL) to the host.
    public func signal(_ number: Int32) {
        process.terminate(number)
    }

    public func waitForExit(timeout: TimeInterval = 30) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                throw HostProcessError("the host did not exit within \(timeout) s", stderr: stderrText)
            }
            usleep(5_000)
        }
        // Let the pipe readers take the last bytes of stdout and stderr.
        condition.lock()
        let closeDeadline = Date(timeIntervalSinceNow: 5)
        while !(outputClosed && errorsClosed) && condition.wait(until: closeDeadline) {}
        condition.unlock()
        return process.terminationStatus
    }

    private func receiveOutput(_ data: Data) {
        condition.lock()
        defer { condition.unlock() }
        if data.isEmpty {
            outputClosed = true
            condition.broadcast()
            return
        }
        pendingOutput.append(data)
        // Only the bytes after the last search are searched: a long line arriving in many
        // chunks costs its length once, not once per chunk.
        var lineStart = pendingOutput.startIndex
        var searchFrom = pendingOutput.startIndex + scannedOutput
        while let newline = pendingOutput[searchFrom...].firstIndex(of: 0x0A) {
            let line = String(decoding: pendingOutput[lineStart..<newline], as: UTF8.self)
            lines.append(line)
            allLines.append(line)
            lineStart = newline + 1
            searchFrom = lineStart
        }
        pendingOutput.removeSubrange(pendingOutput.startIndex..<lineStart)
        scannedOutput = pendingOutput.count
        condition.broadcast()
    }
    private var pendingOutput = Data()
    /// Bytes at the start of `pendingOutput` already searched for a newline.
    private var scannedOutput = 0

    /// Waits for the first unread line `match` accepts (returns non-nil for) and removes it.
    public func waitForLine<T>(timeout: TimeInterval, what: String, match: (String) -> T?) throws -> T {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            for (index, line) in lines.enumerated() {
                if let found = match(line) {
                    lines.remove(at: index)
                    return found
                }
            }
            if outputClosed {
                throw HostProcessError(
                    "the host closed stdout (\(process.exitStatus.map { "\($0)" } ?? "no exit status yet")) before \(what)",
                    stderr: String(decoding: stderrData, as: UTF8.self))
            }
            if !condition.wait(until: deadline) {
                throw HostProcessError(
                    "timed out after \(timeout) s waiting for \(what); unread lines: \(lines.prefix(5))",
                    stderr: String(decoding: stderrData, as: UTF8.self))
            }
        }
    }
}

/// A JSON-RPC error returned by the host.
public struct RPCFailure: Error, CustomStringConvertible {
    public let code: Int
    public let message: String
    public let data: JSON
    public var description: String { "JSON-RPC error \(code): \(message) \(data == .null ? "" : data.text)" }
}

public struct HostProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String, stderr: String = "") {
        let lines = stderr.split(separator: "\n")
        var shown = Array(lines.suffix(25))
        // A crash's report (the message, the crashed thread's frames) is longer than the tail.
        if let crash = lines.firstIndex(where: { $0.contains("Fatal error") || $0.contains("crashed") }), crash < lines.count - 25 {
            shown = Array(lines[crash..<min(crash + 80, lines.count - 25)]) + ["…"] + shown
        }
        let tail = shown.joined(separator: "\n")
        description = tail.isEmpty ? message : "\(message)\n--- host stderr (last lines) ---\n\(tail)"
    }
}
