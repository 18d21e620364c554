import CModHostShims
import Foundation

/// A child process started with `posix_spawn`: the one way the test kit, the tests and the
/// benchmark start programs (the host, compilers, Python clients, `modhost call`).
///
/// Hand-written because Foundation's `Process.run` on Swift 6.3.1 can crash (SIGSEGV) listing
/// /proc/self/fd once this process holds more than about 1,300 descriptors (swift-corelibs-foundation
/// PR #5472), and swift-subprocess is async-only, which would make every test kit call async.
///
/// The child gets descriptors 0, 1 and 2 and no other of this process (a leaked pipe end would
/// keep another child from seeing end of file), an empty signal mask and every signal at its
/// default action (SIGPIPE too, which `HostProcess` ignores here). It is reaped by `waitpid` on
/// its own pid only; one dropped while still running is reaped on a thread of its own.
///
///     let child = try ChildProcess("/usr/bin/env", ["python3", script], stdout: .pipe)
///     let text = child.standardOutput!.readToEnd()
///     #expect(child.wait() == .exited(0))
///
/// Thread safety: every member may be used from any thread.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard descriptors goes.
    public enum Stdio: Sendable, Equatable {
        /// This process's own descriptor.
        case inherit
        /// /dev/null.
        case null
        /// A new pipe; the parent's end is `standardInput` / `standardOutput` / `standardError`.
        case pipe
        /// A file: read for stdin; created or truncated, then written, for stdout and stderr.
        case file(String)
        /// For stderr only: the same descriptor as stdout (one pipe or file for both).
        case sameAsStdout
    }

    /// How the child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "signal \(signal) (\(String(cString: strsignal(signal))))"
            }
        }
    }

    /// Foundation's names for the two ways of ending, so tests written for `Process` read the same.
    public enum TerminationReason: Sendable, Equatable {
        case exit, uncaughtSignal
    }

    public let pid: pid_t
    public let executable: String
    public let arguments: [String]
    /// The parent's ends of the `.pipe`s: write to stdin, read stdout and stderr.
    public let standardInput: PipeEnd?
    public let standardOutput: PipeEnd?
    public let standardError: PipeEnd?

    private let lock = NSLock()
    // Guarded by `lock`: set once the child is reaped (never signal the pid after that: it may
    // be another process's by then).
    private var termination: Termination?

    /// Starts `executable` (a path; no PATH search: use /usr/bin/env for that).
    /// - Parameters:
    ///   - arguments: argv after argv[0] (which is `executable`).
    ///   - environment: variables set on top of this process's own.
    ///   - directory: the child's working directory; nil keeps this process's.
    /// - Throws: `HostProcessError` naming the executable and the system's reason.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        stdin: Stdio = .inherit, stdout: Stdio = .inherit, stderr: Stdio = .inherit
    ) throws {
        guard stdin != .sameAsStdout, stdout != .sameAsStdout else {
            throw HostProcessError("ChildProcess: .sameAsStdout is for stderr only")
        }
        self.executable = executable
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        defer { for fd in childEnds { Glibc.close(fd) } }
        var parentEnds: [Int32: PipeEnd] = [:]

        for (target, stdio) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stdio {
            case .inherit:
                break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .sameAsStdout:
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            case .pipe:
                var fds: [Int32] = [-1, -1]
                guard mh_shim_pipe_cloexec(&fds) == 0 else {
                    throw HostProcessError("could not make a pipe for \(executable): \(String(cString: strerror(errno)))")
                }
                let (child, parent) = target == 0 ? (fds[0], fds[1]) : (fds[1], fds[0])
                childEnds.append(child)
                parentEnds[target] = PipeEnd(adopting: parent)
                posix_spawn_file_actions_adddup2(&actions, child, target)
            }
        }
        // Nothing else of this process reaches the child, whatever its close-on-exec flags.
        mh_shim_spawn_addclosefrom(&actions, 3)
        // Last, so that relative file paths above are this process's, as with Foundation.
        if let directory { mh_shim_spawn_addchdir(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env: [String]? = nil
        if !environment.isEmpty {
            env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0.key)=\($0.value)" }
        }
        var pid: pid_t = 0
        let result = Self.withCStrings([executable] + arguments) { argv in
            if let env {
                return Self.withCStrings(env) { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
            }
            return posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        guard result == 0 else {
            throw HostProcessError("could not start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        standardInput = parentEnds[0]
        standardOutput = parentEnds[1]
        standardError = parentEnds[2]
    }

    deinit {
        lock.lock()
        let reaped = termination != nil || reapLocked() != nil
        lock.unlock()
        guard !reaped else { return }
        let pid = pid
        let reaper = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        reaper.stackSize = 64 << 10
        reaper.start()
    }

    // MARK: Waiting

    /// How the child ended, or nil while it runs. Does not block.
    public var exitStatus: Termination? {
        lock.lock()
        defer { lock.unlock() }
        return reapLocked()
    }

    public var isRunning: Bool { exitStatus == nil }

    /// Waits for the child to end.
    @discardableResult
    public func wait() -> Termination {
        while true {
            if let termination = exitStatus { return termination }
            // Waits without reaping, so that the reaping (and the status) stays under the lock.
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno != EINTR {
                lock.lock()
                defer { lock.unlock() }
                // ECHILD with no status: someone else's waitpid(-1) took it.
                if reapLocked() == nil { termination = .exited(-1) }
                return termination!
            }
        }
    }

    /// `wait()` under Foundation's name.
    public func waitUntilExit() { wait() }

    /// The exit status, or the signal that ended the child (Foundation's `terminationStatus`);
    /// waits for the end.
    public var terminationStatus: Int32 {
        switch wait() {
        case .exited(let code), .signaled(let code): code
        }
    }

    /// Whether the child exited or died of a signal; waits for the end.
    public var terminationReason: TerminationReason {
        if case .signaled = wait() { return .uncaughtSignal }
        return .exit
    }

    /// `pid` under Foundation's name.
    public var processIdentifier: pid_t { pid }

    // MARK: Signals

    /// Sends `signal` (SIGTERM unless told) unless the child has been reaped.
    public func terminate(_ signal: Int32 = SIGTERM) {
        lock.lock()
        defer { lock.unlock() }
        if reapLocked() == nil { kill(pid, signal) }
    }

    /// Sends SIGINT.
    public func interrupt() { terminate(SIGINT) }

    // MARK: Private

    private func reapLocked() -> Termination? {
        if let termination { return termination }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, WNOHANG) } while result == -1 && errno == EINTR
        guard result == pid else { return nil }
        // <sys/wait.h>'s macros, which Swift does not import.
        let signal = status & 0x7F
        termination = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
        return termination
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
