import Foundation
import ModHostTestKit
import Testing

/// The queue across a kill -9 (no pending task lost, none run twice unless its attempt was
/// interrupted) and a hot swap (queue, results and cursors kept, timers re-armed, long polls
/// answered so the swap is not held up).
@Suite struct QueueRecoveryTests {
    static let t0 = QueueBench.start

    @Test func aKillKeepsPendingTasksAndRetriesOrFailsTheRunningOnes() throws {
        let bench = try QueueBench()
        let done = try bench.submit("target.ok", ["key": "done"])["taskId"]
        _ = try bench.waitFor(done, "succeeded")
        let retried = try bench.submit("target.hold", ["key": "a"], ["attempts": 2])["taskId"]
        let lastAttempt = try bench.submit("target.hold", ["key": "b"])["taskId"]
        let later = try bench.submit("target.ok", ["key": "later"], ["delayMs": 60_000])["taskId"]
        try bench.waitForHeld(2)

        let restarted = try bench.killAndRestart(at: Self.t0 + 1_000)
        // Running with an attempt left: retried at once, the interrupted attempt counted.
        let again = try restarted.waitFor(retried, "running", attempts: 2)
        #expect(again["dueAt"] == .null, "\(again)")
        try restarted.waitForHeld(1)
        #expect(try restarted.calls("a") == 1)
        // Running on its last attempt: failed, interrupted, with a results entry.
        let failed = try restarted.task(lastAttempt)
        #expect(failed["status"] == "failed" && failed["error"]["reason"] == "interrupted" && failed["attempts"] == 1, "\(failed)")
        #expect(try restarted.calls("b") == 0)
        // Pending: kept, due when it was; done: not run again.
        #expect(try restarted.task(later)["dueAt"] == .int(Self.t0 + 60_000))
        #expect(try restarted.task(done)["status"] == "succeeded" && restarted.calls("done") == 0)
        try restarted.advance(by: 59_000)
        _ = try restarted.waitFor(later, "succeeded")
        #expect(try restarted.calls("later") == 1)
        try restarted.host.call("target.release", ["key": "a"])
        #expect(try restarted.waitFor(retried, "succeeded")["attempts"] == 2)
        let entries = try restarted.host.call("task.results")["entries"].array ?? []
        #expect(entries.map(\.["taskId"]) == [done, lastAttempt, later, retried], "\(entries)")
        #expect(entries.map(\.["cursor"]) == [1, 2, 3, 4])
    }

    @Test func aHotSwapKeepsTheQueueAndCursorsAndAnswersLongPolls() throws {
        let bench = try QueueBench(extraArguments: ["--drain-timeout-ms", "5000"])
        for n in 1...2 { _ = try bench.waitFor(try bench.submit("target.ok", ["n": .int(Int64(n))])["taskId"], "succeeded") }
        #expect(try bench.host.call("task.results", ["consumer": "c", "limit": 1])["cursor"] == 1)
        let later = try bench.submit("target.ok", ["n": 3], ["delayMs": 10_000])["taskId"]
        let pollID = JSON.int(Int64(bench.host.takeID()))
        try bench.host.send(raw: JSON.object([
            "jsonrpc": "2.0", "id": pollID, "method": "task.results", "params": ["consumer": "w", "after": 2, "waitMs": 30_000],
        ]).text)
        guard try Poll.until({ try bench.host.call("modules.describe", ["id": "task"])["openCalls"] == 1 }) else {
            Issue.record("the long poll never reached the task module")
            return
        }
        let copy = "\(try TemporaryDirectory.make(prefix: "task-swap"))/libTask.so"
        try FileManager.default.copyItem(atPath: "\(bench.harness.plugins)/libTask.so", toPath: copy)
        let swapped = try bench.host.call("modules.swap", ["id": "task", "path": .string(copy)], timeout: 60)
        #expect(swapped["generation"] == 2, "\(swapped)")
        // The long poll was answered (empty) so the swap did not wait for it.
        #expect(try bench.host.response(id: pollID)["result"] == ["entries": [], "cursor": 2])
        // The pending task's timer was re-armed in the new version; cursors go on.
        #expect(try bench.task(later)["status"] == "pending")
        try bench.advance(by: 10_000)
        let finished = try bench.waitFor(later, "succeeded")
        #expect(finished["cursor"] == 3, "\(finished)")
        let read = try bench.host.call("task.results", ["consumer": "c"])
        #expect(QueueResultsTests.cursors(read) == [2, 3], "\(read)")
    }

    @Test func aTaskRunningAtAHotSwapIsInterruptedAndRetriedByTheNewVersion() throws {
        let bench = try QueueBench()
        let id = try bench.submit("target.hold", ["key": "s"], ["attempts": 2])["taskId"]
        try bench.waitForHeld(1)
        let copy = "\(try TemporaryDirectory.make(prefix: "task-swap"))/libTask.so"
        try FileManager.default.copyItem(atPath: "\(bench.harness.plugins)/libTask.so", toPath: copy)
        #expect(try bench.host.call("modules.swap", ["id": "task", "path": .string(copy)], timeout: 60)["generation"] == 2)
        // Its reply would reach the old instance: the new one counts the attempt and runs it again.
        #expect(try bench.waitFor(id, "running", attempts: 2)["taskId"] == id)
        try bench.waitForHeld(2)
        try bench.host.call("target.release", ["key": "s"])  // the old attempt's call: dropped
        #expect(try bench.task(id)["status"] == "running")
        try bench.host.call("target.release", ["key": "s"])
        let done = try bench.waitFor(id, "succeeded")
        #expect(done["attempts"] == 2 && done["result"] == ["released": "s"], "\(done)")
    }
}
