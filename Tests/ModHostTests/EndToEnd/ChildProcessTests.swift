import Foundation
import ModHostTestKit
import Testing

/// The test kit's spawner: what a child gets (only fds 0-2, default signals, its environment and
/// directory) and how it ends, and that no child holds another host's pipe open.
@Suite struct ChildProcessTests {
    /// A running `cat` whose stdin is a pipe of ours.
    private func cat() throws -> ChildProcess {
        try ChildProcess("/bin/cat", [], stdin: .pipe, stdout: .null, stderr: .null)
    }

    @Test func aChildHasOnlyItsThreeStandardDescriptors() throws {
        let host = try HostProcess(plugins: try TestPlugins.directory())  // this process holds its pipes
        _ = try host.call("host.status")
        let child = try cat()
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd").sorted()
        #expect(open == ["0", "1", "2"])
        child.standardInput!.close()
        #expect(child.wait() == .exited(0))
        #expect(try host.shutdown() == 0)
    }

    /// A child started while a host runs must not hold the host's stdin open: closing it still
    /// shuts the host down.
    @Test func aHostSeesEndOfInputWhileAnotherChildRuns() throws {
        let host = try HostProcess(plugins: try TestPlugins.directory())
        _ = try host.call("host.status")
        let bystander = try cat()
        #expect(try host.shutdown(timeout: 20) == 0)
        #expect(bystander.isRunning)
        bystander.terminate(SIGKILL)
        #expect(bystander.wait() == .signaled(SIGKILL))
    }

    @Test func aChildStartsWithNoSignalBlockedOrIgnored() throws {
        signal(SIGPIPE, SIG_IGN)  // as HostProcess does in this process
        let child = try cat()
        defer { child.terminate(SIGKILL) }
        let status = try #require(ProcFS.read(child.pid, "status"))
        let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["SigBlk"] == "0000000000000000")
        // Signals 1-31 (SIGPIPE is bit 12) at their default; glibc's posix_spawn leaves its own
        // two internal signals (32, 33) ignored, as for every program it starts.
        let ignored = try #require(UInt64(fields["SigIgn"] ?? "", radix: 16))
        #expect(ignored & 0x7FFF_FFFF == 0, "SigIgn \(fields["SigIgn"] ?? "")")
    }

    @Test func exitStatusEnvironmentAndDirectory() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-child")
        let result = try ChildProcess.run("/bin/sh", ["-c", "pwd; echo \"$MODHOST_CHILD_TEST\"; echo oops >&2; exit 3"],
                                          environment: ["MODHOST_CHILD_TEST": "set"], directory: directory)
        #expect(result.termination == .exited(3))
        #expect(result.out == "\(URL(fileURLWithPath: directory).resolvingSymlinksInPath().path)\nset\n")
        #expect(result.err == "oops\n")
        let merged = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2"], stderr: .sameAsStdout)
        #expect(merged.out == "out\nerr\n" && merged.stderr.isEmpty)
    }

    @Test func aChildThatIsStillRunningCanBeSignalled() throws {
        let child = try cat()
        #expect(child.isRunning && child.exitStatus == nil)
        child.terminate()
        #expect(child.wait() == .signaled(SIGTERM))
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGTERM)
        #expect(!child.isRunning)
        child.terminate()  // reaped: nothing is sent to a pid that may be someone else's now
    }

    @Test func aProgramThatCannotStartThrowsWithTheReason() throws {
        let error = #expect(throws: HostProcessError.self) { try ChildProcess("/nonexistent/program", []) }
        #expect(error?.description == "could not start /nonexistent/program: No such file or directory")
    }
}
