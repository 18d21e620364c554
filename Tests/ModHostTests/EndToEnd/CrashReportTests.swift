import Foundation
import ModHostTestKit
import Testing

/// A crash names its module (issue 8, item 6; DESIGN.md, Loading): the real host, killed by a
/// plugin that crashes on purpose (`Fixtures/crasher.c`), writes one line to stderr before the
/// backtrace naming the module, method, file, version and generation (or the file being loaded,
/// or the host itself), with the `--disable` options that leave it out, and still dies of the
/// signal.
///
/// Most tests run with `SWIFT_BACKTRACE=enable=no` (the handler then chains to the default
/// action, and a crash takes milliseconds); `segvInHandleBeforeSwiftBacktrace` keeps the Swift
/// runtime's backtracer, which the handler chains to.
@Suite struct CrashReportTests {
    static let withoutBacktracer = ["SWIFT_BACKTRACE": "enable=no"]

    /// What a crashed host left behind.
    struct Crash {
        let signal: Int32
        let stderr: String
        /// The first `modhost: fatal` line.
        let line: String
    }

    /// A plugin directory with the crasher (built with `defines`) and the C echo example; returns
    /// it and the crasher's resolved path, as the line names it.
    static func plugins(crasher defines: [String] = []) throws -> (directory: String, file: String) {
        let directory = try TestPlugins.directory()
        let file = try TestPlugins.crasher(into: directory, defines: defines)
        try TestPlugins.echo(into: directory)
        return (directory, resolved(file))
    }

    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// Starts a host on `directory`, sends `method` (a call that never gets an answer) unless nil,
    /// and waits for the host to die by a signal.
    static func crash(_ directory: String, calling method: String?, environment: [String: String] = withoutBacktracer,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> Crash {
        NoCoreDumps.apply()
        let host = try HostProcess(plugins: directory, environment: environment)
        if let method {
            try host.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"\#(method)"}"#)
        }
        let status = try host.waitForExit(timeout: 120)
        let stderr = host.stderrText
        try #require(host.process.terminationReason == .uncaughtSignal,
                     "the host should die of a signal, it exited with \(status):\n\(stderr)", sourceLocation: sourceLocation)
        let line = stderr.split(separator: "\n").first { $0.hasPrefix("modhost: fatal") }
        try #require(line != nil, "no crash line on stderr:\n\(stderr)", sourceLocation: sourceLocation)
        return Crash(signal: status, stderr: stderr, line: String(line!))
    }

    /// With the Swift backtracer as it is by default: the line comes first, then the backtrace,
    /// and the host dies of SIGSEGV.
    @Test func segvInHandleBeforeSwiftBacktrace() throws {
        let (directory, file) = try Self.plugins()
        let crash = try Self.crash(directory, calling: "crasher.segv", environment: ["SWIFT_BACKTRACE": "enable=yes,interactive=no"])
        #expect(crash.signal == SIGSEGV)
        #expect(crash.line == "modhost: fatal SIGSEGV in module crasher 1.0.0 (generation 1, file \(file)), in call crasher.segv: "
            + "restart with --disable crasher (or --disable \(file)) to leave it out")
        let lines = crash.stderr.split(separator: "\n")
        let ours = try #require(lines.firstIndex { $0.hasPrefix("modhost: fatal") })
        let backtrace = try #require(lines.firstIndex { $0.contains("Program crashed") }, "no Swift backtrace:\n\(crash.stderr)")
        #expect(ours < backtrace)
        #expect(crash.stderr.contains("crashed:"), "the backtrace names the crashed thread")
    }

    /// A thread the plugin started itself is attributed by the faulting address alone.
    @Test func crashOnAThreadThePluginStarted() throws {
        let (directory, file) = try Self.plugins()
        let crash = try Self.crash(directory, calling: "crasher.thread_segv")
        #expect(crash.signal == SIGSEGV)
        #expect(crash.line == "modhost: fatal SIGSEGV in module crasher 1.0.0 (generation 1, file \(file)), outside any call from "
            + "the host (on a thread it started): restart with --disable crasher (or --disable \(file)) to leave it out")
    }

    /// `abort()` faults in libc: the thread's current call names the module.
    @Test func abortInACallIsAttributedThroughTheCall() throws {
        let (directory, file) = try Self.plugins()
        let crash = try Self.crash(directory, calling: "crasher.abort")
        #expect(crash.signal == SIGABRT)
        #expect(crash.line.hasPrefix(
            "modhost: fatal SIGABRT outside any module's image, in call crasher.abort of module crasher 1.0.0 (generation 1, file \(file))"))
        #expect(crash.line.hasSuffix("restart with --disable crasher (or --disable \(file)) to leave it out"))
    }

    /// A bad pointer handed to a host function: the host's own code faults, serving that call.
    @Test func badPointerToAHostFunctionIsTheHostsFaultInTheModulesCall() throws {
        let (directory, file) = try Self.plugins()
        let crash = try Self.crash(directory, calling: "crasher.bad_respond")
        #expect(crash.signal == SIGSEGV)
        #expect(crash.line.hasPrefix("modhost: fatal SIGSEGV in the host's own code (modhost 0.1.0, "))
        #expect(crash.line.contains(
            "in call crasher.bad_respond of module crasher 1.0.0 (generation 1, file \(file)): a host bug, or a bad pointer the module passed"))
        #expect(crash.line.hasSuffix("restart with --disable crasher (or --disable \(file)) to leave it out"))
    }

    /// A stack overflow on the module's worker thread (one the host created): the handler still
    /// runs, on the thread's alternate signal stack.
    @Test func stackOverflowOnAHostThread() throws {
        let (directory, file) = try Self.plugins()
        let crash = try Self.crash(directory, calling: "crasher.overflow")
        #expect(crash.signal == SIGSEGV)
        #expect(crash.line == "modhost: fatal SIGSEGV in module crasher 1.0.0 (generation 1, file \(file)), in call crasher.overflow: "
            + "restart with --disable crasher (or --disable \(file)) to leave it out")
    }

    /// A crash in `mh_plugin_entry` happens before there is a module: the line names the file
    /// being loaded, which `--disable FILE` leaves out (DisableTests starts the host that way).
    @Test func crashWhileLoadingNamesTheFile() throws {
        let (directory, file) = try Self.plugins(crasher: ["-DCRASHER_CRASH_IN_ENTRY"])
        let crash = try Self.crash(directory, calling: nil)
        #expect(crash.signal == SIGSEGV)
        #expect(crash.line == "modhost: fatal SIGSEGV while loading \(file) (in its library constructors, mh_plugin_entry or "
            + "descriptor): restart with --disable \(file) to leave it out")
    }

    /// After a swap, the line names the generation and file now serving.
    @Test func aSwappedModuleIsNamedWithItsNewGenerationAndFile() throws {
        NoCoreDumps.apply()
        let (directory, _) = try Self.plugins()
        let next = Self.resolved(try TestPlugins.crasher(into: TestPlugins.directory(), name: "libcrasher-next.so"))
        let host = try HostProcess(plugins: directory, environment: Self.withoutBacktracer)
        #expect(try host.call("modules.swap", ["id": "crasher", "path": .string(next)])["generation"] == 2)
        try host.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"crasher.segv"}"#)
        #expect(try host.waitForExit(timeout: 60) == SIGSEGV)
        #expect(host.stderrText.contains(
            "modhost: fatal SIGSEGV in module crasher 1.0.0 (generation 2, file \(next)), in call crasher.segv: "
                + "restart with --disable crasher (or --disable \(next)) to leave it out"), "\(host.stderrText)")
    }

    /// A crash signal sent by another process is no fault of anyone in the host: it says so, and
    /// the host still dies of it.
    @Test func aSignalFromAnotherProcessSaysSo() throws {
        NoCoreDumps.apply()
        let (directory, _) = try Self.plugins()
        let host = try HostProcess(plugins: directory, environment: Self.withoutBacktracer)
        #expect(try host.call("crasher.ping") == "pong")
        host.signal(SIGBUS)
        #expect(try host.waitForExit(timeout: 60) == SIGBUS)
        #expect(host.process.terminationReason == .uncaughtSignal)
        #expect(host.stderrText.contains("modhost: fatal SIGBUS sent by process \(getpid()) (kill), not a fault in the host or a module"),
                "\(host.stderrText)")
    }
}

/// Crashing hosts must not leave core files around (CI runs as root, whatever its core limit).
enum NoCoreDumps {
    private static let applied: Void = {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        limit.rlim_cur = 0
        setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
    }()

    /// Sets this process's soft core-file limit to 0; the hosts it starts inherit it.
    static func apply() { _ = applied }
}
