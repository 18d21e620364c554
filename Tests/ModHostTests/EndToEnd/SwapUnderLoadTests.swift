import Foundation
import ModHostTestKit
import Testing

/// A swap under load loses nothing (issue 3, item 8).
///
/// The stream comes from a separate client process: `Fixtures/swap_load_client.py` (Python 3)
/// starts the modhost binary itself and owns its stdin and stdout. One of its threads writes a
/// steady stream of `counter.add [n]` calls (with a `counter.total` read after every tenth)
/// while another swaps the module back and forth between the version 1 and version 2 builds
/// made here; a reader thread collects every response. It prints a JSON summary, which this test
/// checks: every request answered exactly once, no error, every add's result the running sum of
/// the values sent before it (so nothing was lost, duplicated, reordered or run on a state that
/// was not carried over), and the final total the sum of everything added.
@Suite struct SwapUnderLoadTests {
    static let swaps = 30
    static let minimumAdds = 3000

    @Test func swappingBackAndForthUnderAStreamOfCallsLosesNothing() throws {
        let plugins = try TestPlugins.directory()
        let builds = try TestPlugins.directory()
        try TestPlugins.counter(into: plugins, version: 1)
        let v1 = try TestPlugins.counter(into: builds, version: 1)
        let v2 = try TestPlugins.counter(into: builds, version: 2)
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        let hostErrors = "\(builds)/modhost.stderr"

        let (summary, clientErrors) = try runClient([
            "--modhost", HostProcess.locateExecutable().path,
            "--plugins", plugins, "--state-dir", state,
            "--v1", v1, "--v2", v2,
            "--swaps", String(Self.swaps), "--calls", String(Self.minimumAdds),
            "--stderr", hostErrors, "--timeout", "120",
        ])
        let context = "summary: \(summary)\nclient stderr:\n\(clientErrors)\nmodhost stderr (tail):\n\(tail(of: hostErrors))"

        #expect(summary["ready"] == "1.0.0", "\(context)")
        #expect(summary["timedOut"] == false, "\(context)")
        #expect(summary["missing"] == [], "requests without a response\n\(context)")
        #expect(summary["duplicates"] == [], "requests answered more than once\n\(context)")
        #expect(summary["unexpected"] == [], "responses to ids never sent\n\(context)")
        #expect(summary["errors"] == [], "no call may fail during a swap\n\(context)")
        #expect(summary["requests"] == summary["responses"], "\(context)")

        // The swaps: all done, alternating, while the stream flowed.
        let swaps = summary["swaps"].array ?? []
        #expect(swaps.count == Self.swaps, "\(context)")
        for (index, swap) in swaps.enumerated() {
            let (from, to) = index.isMultiple(of: 2) ? ("1.0.0", "2.0.0") : ("2.0.0", "1.0.0")
            #expect(swap["result"]["from"] == .string(from), "\(swap)")
            #expect(swap["result"]["to"] == .string(to), "\(swap)")
            #expect(swap["result"]["generation"] == .int(Int64(index + 2)), "\(swap)")
            #expect((swap["result"]["stateBytes"].int ?? 0) > 0, "\(swap)")
        }
        #expect((summary["addsSentDuringSwaps"].int ?? 0) > 0, "the stream must flow while swaps are in progress\n\(context)")
        #expect((summary["adds"].int ?? 0) >= Int64(Self.minimumAdds), "\(context)")

        // The state afterwards is what the calls imply.
        #expect(summary["addMismatches"] == 0, "\(summary["mismatchExamples"])\n\(context)")
        #expect(summary["totalMismatches"] == 0, "\(summary["mismatchExamples"])\n\(context)")
        #expect(summary["finalTotal"] == summary["expectedTotal"], "\(context)")
        #expect(summary["finalTotal"] != .null)
        #expect(summary["finalVersion"] == .string(Self.swaps.isMultiple(of: 2) ? "1.0.0" : "2.0.0"))
        #expect(summary["exitCode"] == 0, "modhost should shut down cleanly at end of input\n\(context)")
    }

    /// Runs the client with `python3` and returns its summary and its stderr.
    private func runClient(_ arguments: [String]) throws -> (JSON, String) {
        let script = TestPlugins.fixtures.appendingPathComponent("swap_load_client.py").path
        // The client bounds itself (--timeout); the timeout is the backstop if it hangs anyway.
        let run = try ChildProcess.run("/usr/bin/env", ["python3", script] + arguments, stdin: .inherit, timeout: 240)
        guard run.status == 0, let summary = try? JSON(parsing: run.out) else {
            throw HostProcessError("the client failed (\(run.termination)): \(run.out)\n\(run.err)")
        }
        return (summary, run.err)
    }

    private func tail(of file: String) -> String {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(30).joined(separator: "\n")
    }
}
