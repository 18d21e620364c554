import Foundation
import ModHostJSON
import ModuleSupport
import Testing
@testable import TaskCore

/// The queue's rules with time passed in: validation, states, retries with backoff, keys,
/// cancel, timeouts, concurrency, recovery, results with cursors and consumers, compaction.
@Suite struct QueueEngineTests {
    static let t0: Int64 = 1_767_225_600_000

    static func engine(_ config: TaskConfig = TaskConfig()) -> TaskEngine {
        TaskEngine(config: config, defaultZone: TimeZone(identifier: "UTC")!)
    }

    static func request(_ method: String = "target.ok", attempts: Int? = nil, backoff: SubmitRequest.BackoffRequest? = nil,
                        delayMs: Int64? = nil, key: String? = nil, group: String? = nil, timeoutMs: Int64? = nil) -> SubmitRequest {
        SubmitRequest(call: .init(method: method, params: ["secret": "s3cr3t"]), delayMs: delayMs, attempts: attempts,
                      backoff: backoff, timeoutMs: timeoutMs, key: key, group: group)
    }

    static func failure(_ code: Int) -> Result<JSONValue, TaskError> {
        .failure(TaskError(code: code, message: "no"))
    }

    @Test func exponentialBackoffDoublesUpToItsCap() {
        let backoff = Backoff(type: .exponential, delayMs: 1_000, maxDelayMs: 5_000)
        #expect((1...5).map { backoff.delay(afterAttempt: $0) } == [1_000, 2_000, 4_000, 5_000, 5_000])
        #expect(Backoff(type: .fixed, delayMs: 700).delay(afterAttempt: 9) == 700)
        #expect(Backoff(type: .exponential, delayMs: 1, maxDelayMs: 600_000).delay(afterAttempt: 90) == 600_000)
    }

    @Test func aFailingTaskRetriesAfterItsBackoffThenSucceeds() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let answer = try engine.submit(Self.request(attempts: 3, backoff: .init(type: "exponential", delayMs: 1_000)), at: Self.t0, effects: &effects)
        #expect(answer.status == .running && effects.calls.map(\.attempt) == [1])
        #expect(effects.calls.first?.timeoutMs == 600_000)
        engine.callEnded(answer.taskId, attempt: 1, outcome: Self.failure(-32000), at: Self.t0 + 10, effects: &effects)
        #expect(engine.queue[answer.taskId]?.status == .pending)
        #expect(engine.nextWakeMs == Self.t0 + 1_010)
        effects = TaskEffects()
        engine.wake(at: Self.t0 + 1_010, effects: &effects)
        #expect(effects.calls.map(\.attempt) == [2])
        engine.callEnded(answer.taskId, attempt: 2, outcome: Self.failure(-32001), at: Self.t0 + 1_020, effects: &effects)
        #expect(engine.nextWakeMs == Self.t0 + 3_020)
        engine.wake(at: Self.t0 + 3_020, effects: &effects)
        engine.callEnded(answer.taskId, attempt: 3, outcome: .success(["ok": true]), at: Self.t0 + 3_050, effects: &effects)
        let task = try engine.get(answer.taskId)
        #expect(task.status == .succeeded && task.attempts == 3 && task.result == ["ok": true] && task.cursor == 1)
        #expect(engine.nextWakeMs == nil)
    }

    @Test func nonRetryableErrorsFailAtOnce() throws {
        for code in [-32601, -32602, -32603, -32002, -32003] {
            var engine = Self.engine()
            var effects = TaskEffects()
            let id = try engine.submit(Self.request(attempts: 5), at: Self.t0, effects: &effects).taskId
            engine.callEnded(id, attempt: 1, outcome: Self.failure(code), at: Self.t0 + 5, effects: &effects)
            #expect(try engine.get(id).status == .failed && engine.get(id).attempts == 1 && engine.get(id).error?.code == code)
        }
    }

    @Test func aKeyOfAPendingOrRunningTaskReturnsThatTask() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let first = try engine.submit(Self.request(key: "daily-report"), at: Self.t0, effects: &effects)
        let again = try engine.submit(Self.request(key: "daily-report"), at: Self.t0 + 1, effects: &effects)
        #expect(again == SubmitAnswer(taskId: first.taskId, status: .running, existing: true))
        engine.callEnded(first.taskId, attempt: 1, outcome: .success(.null), at: Self.t0 + 2, effects: &effects)
        let after = try engine.submit(Self.request(key: "daily-report"), at: Self.t0 + 3, effects: &effects)
        #expect(after.taskId != first.taskId && after.existing == nil)
    }

    @Test func cancelPendingRunningAndDone() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let later = try engine.submit(Self.request(delayMs: 60_000), at: Self.t0, effects: &effects).taskId
        let now = try engine.submit(Self.request(), at: Self.t0, effects: &effects).taskId
        #expect(engine.cancel(later, at: Self.t0 + 1, effects: &effects).status == "canceled")
        #expect(engine.cancel(now, at: Self.t0 + 2, effects: &effects).status == "canceled")
        #expect(engine.cancel(now, at: Self.t0 + 3, effects: &effects).status == "already_done")
        #expect(engine.cancel("t999", at: Self.t0 + 3, effects: &effects).status == "not_found")
        // The running task's late reply changes nothing.
        engine.callEnded(now, attempt: 1, outcome: .success("late"), at: Self.t0 + 4, effects: &effects)
        #expect(try engine.get(now).status == .canceled && engine.get(now).result == nil)
        #expect(engine.nextWakeMs == nil && engine.queue.runningCount == 0)
    }

    @Test func anAttemptPastItsTimeoutFailsAndItsLateReplyIsIgnored() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let id = try engine.submit(Self.request(attempts: 2, backoff: .init(delayMs: 100), timeoutMs: 5_000), at: Self.t0, effects: &effects).taskId
        #expect(engine.nextWakeMs == Self.t0 + 5_000)
        engine.wake(at: Self.t0 + 5_000, effects: &effects)
        #expect(try engine.get(id).status == .pending && engine.get(id).error?.reason == "timeout")
        engine.callEnded(id, attempt: 1, outcome: .success("late"), at: Self.t0 + 5_050, effects: &effects)
        #expect(try engine.get(id).status == .pending)
        engine.wake(at: Self.t0 + 5_100, effects: &effects)
        engine.wake(at: Self.t0 + 10_100, effects: &effects)
        #expect(try engine.get(id).status == .failed && engine.get(id).error?.code == -32004 && engine.get(id).attempts == 2)
    }

    @Test func concurrencyOverallAndPerGroup() throws {
        var engine = Self.engine(TaskConfig(concurrency: 3, groups: ["slow": 1]))
        var effects = TaskEffects()
        let ids = try (0..<5).map { i in try engine.submit(Self.request(group: i < 3 ? "slow" : nil), at: Self.t0, effects: &effects).taskId }
        // t1 (slow), t4, t5 run; t2 and t3 wait for the one slot of "slow".
        #expect(effects.calls.map(\.taskId) == [ids[0], ids[3], ids[4]])
        effects = TaskEffects()
        engine.callEnded(ids[3], attempt: 1, outcome: .success(.null), at: Self.t0 + 1, effects: &effects)
        #expect(effects.calls.isEmpty, "a free overall slot does not start a task whose group is full")
        engine.callEnded(ids[0], attempt: 1, outcome: .success(.null), at: Self.t0 + 2, effects: &effects)
        #expect(effects.calls.map(\.taskId) == [ids[1]])
    }

    @Test func runningTasksAreRecoveredAtStart() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let retried = try engine.submit(Self.request(attempts: 2), at: Self.t0, effects: &effects).taskId
        let last = try engine.submit(Self.request(), at: Self.t0, effects: &effects).taskId
        let pending = try engine.submit(Self.request(delayMs: 10_000), at: Self.t0, effects: &effects).taskId
        var restarted = Self.engine()
        restarted.importState(engine.exportState())
        effects = TaskEffects()
        restarted.recover(at: Self.t0 + 100, effects: &effects)
        #expect(try restarted.get(retried).status == .running && restarted.get(retried).attempts == 2)
        #expect(try restarted.get(last).status == .failed && restarted.get(last).error?.reason == "interrupted")
        #expect(try restarted.get(pending).status == .pending)
        #expect(effects.calls.map(\.taskId) == [retried])
        // The instance's own calls in flight are not interrupted (a failed swap restarts it).
        var same = restarted
        effects = TaskEffects()
        same.recover(at: Self.t0 + 200, effects: &effects)
        #expect(effects.calls.isEmpty && same.queue[retried]?.attempts == 2)
    }

    @Test func resultsReadInOrderAsConsumersAndByCursor() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let ids = try (0..<3).map { _ in try engine.submit(Self.request(), at: Self.t0, effects: &effects).taskId }
        for (i, id) in ids.enumerated() { engine.callEnded(id, attempt: 1, outcome: .success(.int(Int64(i))), at: Self.t0 + 10, effects: &effects) }
        effects = TaskEffects()
        try engine.results(ResultsRequest(consumer: "billing", limit: 2), call: PendingCallID(1), at: Self.t0 + 20, effects: &effects)
        try engine.results(ResultsRequest(consumer: "billing"), call: PendingCallID(2), at: Self.t0 + 20, effects: &effects)
        try engine.results(ResultsRequest(after: 1), call: PendingCallID(3), at: Self.t0 + 20, effects: &effects)
        let answers = effects.list.effects.compactMap { effect -> ResultsAnswer? in
            guard case .reply(_, let json) = effect else { return nil }
            return try? JSONDecoder().decode(ResultsAnswer.self, from: json)
        }
        #expect(answers.map { $0.entries.map(\.cursor) } == [[1, 2], [3], [2, 3]])
        #expect(answers.map(\.cursor) == [2, 3, 3])
        #expect(effects.list.effects.contains(.put(key: "consumer/billing", value: Data("3".utf8))))
    }

    @Test func aLongPollIsAnsweredWhenAResultLandsOrAtItsWait() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        try engine.results(ResultsRequest(consumer: "c", waitMs: 30_000), call: PendingCallID(7), at: Self.t0, effects: &effects)
        try engine.results(ResultsRequest(consumer: "d", waitMs: 1_000), call: PendingCallID(8), at: Self.t0, effects: &effects)
        #expect(engine.waitingReaders == 2 && engine.nextWakeMs == Self.t0 + 1_000)
        engine.wake(at: Self.t0 + 1_000, effects: &effects)
        #expect(engine.waitingReaders == 1)
        let id = try engine.submit(Self.request(), at: Self.t0 + 2_000, effects: &effects).taskId
        effects = TaskEffects()
        engine.callEnded(id, attempt: 1, outcome: .success("done"), at: Self.t0 + 2_001, effects: &effects)
        #expect(engine.waitingReaders == 0)
        #expect(effects.list.effects.contains { if case .reply(PendingCallID(7), _) = $0 { true } else { false } })
        #expect(throws: ModuleFailure.invalidInput("waitMs must be 0 to 30000 (30 s; poll again for longer), got 30001")) {
            try engine.results(ResultsRequest(waitMs: 30_001), call: PendingCallID(9), at: Self.t0, effects: &effects)
        }
    }

    @Test func compactionWaitsForEveryConsumerAndKeepsTheNewest() throws {
        var engine = Self.engine(TaskConfig(resultsKept: 3))
        var effects = TaskEffects()
        try engine.results(ResultsRequest(consumer: "slow"), call: PendingCallID(1), at: Self.t0, effects: &effects)
        var ids: [String] = []
        for _ in 0..<6 {
            let id = try engine.submit(Self.request(), at: Self.t0, effects: &effects).taskId
            engine.callEnded(id, attempt: 1, outcome: .success(.null), at: Self.t0 + 1, effects: &effects)
            ids.append(id)
        }
        #expect(engine.results.count == 6, "the consumer has read nothing: all stay")
        try engine.results(ResultsRequest(consumer: "slow", limit: 4), call: PendingCallID(2), at: Self.t0 + 2, effects: &effects)
        #expect(engine.results.entries.map(\.cursor) == [4, 5, 6])
        #expect(engine.queue[ids[0]] == nil && effects.list.effects.contains(.delete(key: "result/00000000000000000001")))
        #expect(engine.results.latestCursor == 6)
        // The counters are stored before records go; until then the records say.
        let metas = effects.list.effects.compactMap { effect -> QueueMeta? in
            guard case .put("meta/queue", let value) = effect else { return nil }
            return try? JSONDecoder().decode(QueueMeta.self, from: value)
        }
        #expect(metas == [QueueMeta(nextTask: 7, nextCursor: 7)])
        var restored = Self.engine(TaskConfig(resultsKept: 3))
        restored.load(tasks: ids.dropFirst(3).compactMap { engine.queue[$0] }, results: engine.results.entries, consumers: [:], meta: nil)
        #expect(restored.meta == QueueMeta(nextTask: 7, nextCursor: 7))
    }

    @Test func badSubmitsNameTheField() {
        let cases: [(SubmitRequest, String)] = [
            (SubmitRequest(call: nil), "call is required"),
            (SubmitRequest(call: .init(method: "nodot", params: nil)), "call.method must be \"<module>.<method>\""),
            (SubmitRequest(call: .init(method: "a.b", params: nil), attempts: 0), "attempts must be 1 to 100"),
            (SubmitRequest(call: .init(method: "a.b", params: nil), delayMs: 1, atMs: 5), "give delayMs or atMs, not both"),
            (SubmitRequest(call: .init(method: "a.b", params: nil), backoff: .init(type: "linear")), "backoff.type must be fixed or exponential"),
            (SubmitRequest(call: .init(method: "a.b", params: nil), timeoutMs: 86_400_001), "timeoutMs must be 1 to 86400000"),
            (SubmitRequest(call: .init(method: "a.b", params: nil), backoff: .init(delayMs: 10, maxDelayMs: 5)), "backoff.maxDelayMs (5) must be at least"),
        ]
        for (request, message) in cases {
            #expect {
                _ = try request.spec(at: Self.t0)
            } throws: { error in
                (error as? ModuleFailure)?.kind == .invalidInput && (error as? ModuleFailure)?.message.contains(message) == true
            }
        }
    }

    @Test func aPublishTargetSucceedsOncePublished() throws {
        var engine = Self.engine()
        var effects = TaskEffects()
        let spec = TaskSpec(target: .publish(topic: "report.due", data: ["day": 1]), dueAt: Self.t0)
        let answer = try engine.submit(spec, origin: .job(name: "daily", scheduledAtMs: Self.t0), at: Self.t0, effects: &effects)
        #expect(answer.status == .succeeded && effects.calls.isEmpty)
        #expect(effects.list.effects.contains(.publish(topic: "report.due", data: Data(#"{"day":1}"#.utf8))))
        #expect(engine.results.entries.first?.job == "daily")
    }
}
