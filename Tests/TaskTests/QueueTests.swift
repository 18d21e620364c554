import Foundation
import ModHostTestKit
import Testing

/// The queue through the real host, libTask.so and the `target` fixture module, on the manual
/// clock: retries with backoff, what is not retried, keys, cancel, timeouts on the host clock
/// and calls longer than `--call-timeout-ms`, concurrency overall and per group, bad params.
@Suite struct QueueTests {
    static let t0 = QueueBench.start

    @Test func aTaskFailingTwiceSucceedsOnItsThirdAttemptAfterExponentialBackoff() throws {
        let bench = try QueueBench()
        try bench.host.call("events.subscribe", ["topics": ["task.*"]])
        let submitted = try bench.submit("target.flaky", ["key": "f", "failures": 2],
                                         ["attempts": 3, "backoff": ["type": "exponential", "delayMs": 1_000]])
        let id = submitted["taskId"]
        #expect(submitted["status"] == "running", "\(submitted)")
        #expect(try bench.host.nextEvent(topic: "task.started")["data"] == ["taskId": id, "status": "running", "attempts": 1])
        // Attempt 1 fails at t0: the retry is due 1 s later (delayMs * 2^0).
        let first = try bench.waitFor(id, "pending", attempts: 1)
        #expect(first["dueAt"] == .int(Self.t0 + 1_000) && first["error"]["code"] == -32000, "\(first)")
        try bench.advance(by: 999)
        #expect(try bench.task(id)["status"] == "pending" && bench.calls("f") == 1)
        try bench.advance(by: 1)
        #expect(try bench.host.nextEvent(topic: "task.started")["data"]["attempts"] == 2)
        // Attempt 2 fails at t0 + 1 s: the next is due 2 s later (delayMs * 2^1).
        let second = try bench.waitFor(id, "pending", attempts: 2)
        #expect(second["dueAt"] == .int(Self.t0 + 3_000), "\(second)")
        try bench.advance(by: 1_999)
        #expect(try bench.calls("f") == 2)
        try bench.advance(by: 1)
        let finished = try bench.host.nextEvent(topic: "task.finished")["data"]
        #expect(finished == ["taskId": id, "status": "succeeded", "attempts": 3, "cursor": 1], "\(finished)")
        let done = try bench.task(id)
        #expect(done["result"] == ["calls": 3] && done["completedAt"] == .int(Self.t0 + 3_000), "\(done)")
        #expect(try bench.calls("f") == 3)
    }

    @Test func methodNotFoundAndInvalidParamsAreNotRetried() throws {
        let bench = try QueueBench()
        for code in [-32601, -32602] {
            let id = try bench.submit("target.fail_with", ["code": .int(Int64(code))], ["attempts": 3, "backoff": ["delayMs": 10]])["taskId"]
            let failed = try bench.waitFor(id, "failed")
            #expect(failed["attempts"] == 1 && failed["error"]["code"] == .int(Int64(code)), "\(failed)")
        }
        // A method the target lacks: -32601 from the host, not retried either.
        let missing = try bench.waitFor(try bench.submit("target.nosuch", .null, ["attempts": 3])["taskId"], "failed")
        #expect(missing["attempts"] == 1 && missing["error"]["code"] == -32601, "\(missing)")
        // A module error (-32000) is retried.
        let retried = try bench.submit("target.fail_with", ["code": 3], ["attempts": 2, "backoff": ["delayMs": 500]])["taskId"]
        #expect(try bench.waitFor(retried, "pending", attempts: 1)["error"]["code"] == -32000)
        try bench.advance(by: 500)
        #expect(try bench.waitFor(retried, "failed", attempts: 2)["error"]["data"]["code"] == 3)
    }

    @Test func aTaskWaitsForItsModuleToBeLoadedWithoutCountingAnAttempt() throws {
        let bench = try QueueBench(withTarget: false)
        try bench.host.call("events.subscribe", ["topics": ["task.finished"]])
        let id = try bench.submit("target.ok", ["n": 1])["taskId"]
        let waiting = try bench.waitFor(id, "pending")
        #expect(waiting["attempts"] == 0 && waiting["waitingForModule"] == "target" && waiting["error"]["code"] == -32601, "\(waiting)")
        // Loaded later: the task runs at once (no clock move), on its first attempt.
        try bench.host.call("modules.load", ["path": .string(try QueueBench.target.get())])
        let finished = try bench.host.nextEvent(topic: "task.finished")["data"]
        #expect(finished["taskId"] == id && finished["status"] == "succeeded" && finished["attempts"] == 1, "\(finished)")
        #expect(try bench.task(id)["result"] == ["n": 1])
        // A module that never comes: the task gives up after its timeoutMs, with the host's -32601.
        let never = try bench.submit("nomodule.call", .null, ["timeoutMs": 10_000])["taskId"]
        _ = try bench.waitFor(never, "pending")
        // It looks again every backoff delay (5 s by default), then gives up at t0 + 10 s.
        try bench.advance(by: 5_000)
        #expect(try Poll.until { try bench.task(never)["dueAt"] == .int(Self.t0 + 10_000) })
        try bench.advance(by: 5_000)
        let failed = try bench.waitFor(never, "failed")
        #expect(failed["attempts"] == 0 && failed["error"]["code"] == -32601 && failed["completedAt"] == .int(Self.t0 + 10_000), "\(failed)")
    }

    @Test func aKeyOfAPendingOrRunningTaskReturnsThatTask() throws {
        let bench = try QueueBench()
        let first = try bench.submit("target.hold", ["key": "k"], ["key": "nightly"])
        let again = try bench.submit("target.hold", ["key": "k"], ["key": "nightly"])
        #expect(again == ["taskId": first["taskId"], "status": "running", "existing": true], "\(again)")
        try bench.waitForHeld(1)
        #expect(try bench.calls("k") == 1)
        try bench.host.call("target.release", ["key": "k"])
        _ = try bench.waitFor(first["taskId"], "succeeded")
        let later = try bench.submit("target.ok", .null, ["key": "nightly"])
        #expect(later["taskId"] != first["taskId"] && later["existing"] == .null, "\(later)")
    }

    @Test func cancelAPendingTaskAndARunningOneWhoseLateResultIsIgnored() throws {
        let bench = try QueueBench()
        let later = try bench.submit("target.ok", ["key": "later"], ["delayMs": 60_000])["taskId"]
        #expect(try bench.host.call("task.cancel", ["taskId": later]) == ["status": "canceled"])
        try bench.advance(by: 60_000)
        #expect(try bench.task(later)["status"] == "canceled" && bench.calls("later") == 0)

        let running = try bench.submit("target.hold", ["key": "r"])["taskId"]
        try bench.waitForHeld(1)
        #expect(try bench.host.call("task.cancel", ["taskId": running]) == ["status": "canceled"])
        #expect(try bench.host.call("task.cancel", ["taskId": running]) == ["status": "already_done"])
        #expect(try bench.host.call("task.cancel", ["taskId": "t999"]) == ["status": "not_found"])
        // The target answers after all: the queue ignores it, and the task stays canceled.
        #expect(try bench.host.call("target.release", ["key": "r"]) == 0)
        try bench.host.waitForStderr(containing: "task \(running.string ?? "") attempt 1: a late reply, ignored")
        let canceled = try bench.task(running)
        #expect(canceled["status"] == "canceled" && canceled["result"] == .null && canceled["error"]["reason"] == "canceled", "\(canceled)")
    }

    @Test func aTaskMayRunLongerThanTheHostsCallTimeout() throws {
        // Short enough for the test, long enough for a loaded machine's other calls.
        let bench = try QueueBench(extraArguments: ["--call-timeout-ms", "1500"])
        // A client's call is cut at --call-timeout-ms …
        #expect(try bench.host.request("target.late", ["ms": 4_000])["error"]["code"] == -32004)
        // … a task's call has its own deadline (ABI 1.2 call_v2): timeoutMs.
        try bench.host.call("events.subscribe", ["topics": ["task.finished"]])
        let id = try bench.submit("target.late", ["ms": 4_000], ["timeoutMs": 60_000])["taskId"]
        let finished = try bench.host.nextEvent(topic: "task.finished", timeout: 30)["data"]
        #expect(finished["taskId"] == id && finished["status"] == "succeeded", "\(finished)")
        #expect(try bench.task(id)["result"] == "late")
    }

    @Test func anAttemptPastItsTimeoutOnTheHostClockFailsWith32004() throws {
        let bench = try QueueBench()
        let id = try bench.submit("target.hold", ["key": "slow"], ["timeoutMs": 60_000, "attempts": 2, "backoff": ["delayMs": 1_000]])["taskId"]
        // 60 s: the timeout is the call's real deadline too, which a loaded machine must not reach.
        try bench.waitForHeld(1)
        try bench.advance(by: 59_999)
        #expect(try bench.task(id)["status"] == "running")
        try bench.advance(by: 1)
        let pending = try bench.task(id)
        #expect(pending["status"] == "pending" && pending["error"]["code"] == -32004 && pending["error"]["reason"] == "timeout", "\(pending)")
        try bench.advance(by: 1_000)
        try bench.waitForHeld(2)
        try bench.advance(by: 60_000)
        let failed = try bench.task(id)
        #expect(failed["status"] == "failed" && failed["attempts"] == 2 && failed["error"]["code"] == -32004, "\(failed)")
    }

    @Test func threeRunAtOnceAndAGroupHasItsOwnLimit() throws {
        let bench = try QueueBench(config: ["groups": ["mail": 1]])
        let plain = try (1...4).map { try bench.submit("target.hold", ["key": .string("p\($0)")]) }
        #expect(plain.map(\.["status"]) == ["running", "running", "running", "pending"])
        try bench.waitForHeld(3)
        try bench.host.call("target.release", ["key": "p1"])
        _ = try bench.waitFor(plain[3]["taskId"], "running")
        try bench.waitForHeld(3)
        for key in ["p2", "p3", "p4"] { try bench.host.call("target.release", ["key": .string(key)]) }
        try bench.waitForHeld(0)

        let mail = try (1...2).map { try bench.submit("target.hold", ["key": .string("m\($0)")], ["group": "mail"]) }
        let other = try bench.submit("target.hold", ["key": "o1"])
        #expect(mail.map(\.["status"]) == ["running", "pending"] && other["status"] == "running")
        try bench.waitForHeld(2)
        try bench.host.call("target.release", ["key": "m1"])
        _ = try bench.waitFor(mail[1]["taskId"], "running")
        try bench.waitForHeld(2)
        #expect(try bench.calls("m2") == 1)
    }

    @Test func badParamsNameTheFieldAndTheHostKeepsServing() throws {
        let bench = try QueueBench()
        let cases: [(JSON, String)] = [
            (["call": ["method": "target.ok"], "atempts": 3], "atempts is not a task.submit field"),
            ([:], "call is required"),
            (["call": ["method": "target"]], "call.method must be \"<module>.<method>\""),
            (["call": ["method": "target.ok"], "attempts": 0], "attempts must be 1 to 100"),
            (["call": ["method": "target.ok"], "backoff": ["type": "linear"]], "backoff.type must be fixed or exponential, got \"linear\""),
            (["call": ["method": "target.ok"], "timeoutMs": 90_000_000], "timeoutMs must be 1 to 86400000"),
            (["call": ["method": "target.ok"], "delayMs": 5, "atMs": 5], "give delayMs or atMs, not both"),
            (["publish": ["topic": "x"]], "publish targets are for jobs"),
        ]
        for (params, message) in cases {
            let response = try bench.host.request("task.submit", params)
            #expect(response["error"]["code"] == -32602, "\(params): \(response)")
            #expect(response["error"]["message"].string?.contains(message) == true, "\(params): \(response)")
        }
        let results = try bench.host.request("task.results", ["waitMs": 60_000])
        #expect(results["error"]["code"] == -32602 && results["error"]["message"].string?.contains("waitMs must be 0 to 30000") == true)
        #expect(try bench.host.request("task.get", ["taskId": "t42"])["error"]["code"] == -32602)
        #expect(try bench.submit("target.ok")["status"] == "running")
    }

    @Test func paramsAreNeverLogged() throws {
        let bench = try QueueBench()
        let id = try bench.submit("target.fail_with", ["code": 9, "token": "hunter2-do-not-log"], ["attempts": 2, "backoff": ["delayMs": 100]])["taskId"]
        try bench.host.waitForStderr(containing: "attempt 1 of 2 failed")
        _ = try bench.waitFor(id, "pending", attempts: 1)  // the retry's wake-up is armed once the reply's entry ended
        try bench.advance(by: 100)
        _ = try bench.waitFor(id, "failed")
        #expect(!bench.host.stderrText.contains("hunter2"))
        let view = try bench.task(id)
        #expect(view["method"] == "target.fail_with" && !view.text.contains("hunter2"), "\(view)")
    }
}
