import Foundation
import ModHostJSON
import ModuleContracts
import Testing
@testable import TaskCore

/// The queue's hand-built JSON (QueueJSON.swift) has exactly the shape the synthesized Codable
/// conformances write and read: the store's records restore, and readers see the same fields.
@Suite struct QueueJSONTests {
    static func sameAsCodable<T: Codable & Equatable>(_ value: T, _ json: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        #expect(json == encoded, "hand-built \(json.text) vs Codable \(encoded.text)", sourceLocation: sourceLocation)
        #expect(try JSONDecoder().decode(T.self, from: Data(json.jsonBytes)) == value, sourceLocation: sourceLocation)
    }

    @Test func queuedTasksWithEveryFieldAndWithNone() throws {
        let full = QueuedTask(
            id: "t9", seq: 9, target: .call(method: "token.refresh", params: ["id": "a", "n": [1, 2.5, true, nil]]),
            origin: .job(name: "nightly", scheduledAtMs: 1_000), status: .failed, attempts: 3, maxAttempts: 3,
            backoff: Backoff(type: .exponential, delayMs: 100, maxDelayMs: 900), timeoutMs: 5_000, key: "k", group: "g",
            createdAt: 1, dueAt: 2, startedAt: 3, completedAt: 4,
            outcome: .failure(TaskError(code: -32000, message: "no \"quote\"", reason: "x", data: ["module": "token"])), cursor: 7,
            missingSince: 5)
        try Self.sameAsCodable(full, full.json)
        let bare = QueuedTask(id: "t1", seq: 1, target: .publish(topic: "a.b", data: nil), origin: nil, status: .pending, attempts: 0,
                              maxAttempts: 1, backoff: Backoff(), timeoutMs: 1, key: nil, group: nil, createdAt: 0, dueAt: 0)
        try Self.sameAsCodable(bare, bare.json)
        var succeeded = bare
        succeeded.outcome = .success("done")
        try Self.sameAsCodable(succeeded, succeeded.json)
    }

    @Test func resultEntriesAnswersAndEvents() throws {
        let entry = ResultEntry(cursor: 3, taskId: "t3", status: .succeeded, result: ["ok": true], error: nil, attempts: 1,
                                durationMs: 12, completedAt: 99, job: "nightly")
        try Self.sameAsCodable(entry, entry.json)
        let failed = ResultEntry(cursor: 4, taskId: "t4", status: .failed, result: nil, error: .interrupted, attempts: 2,
                                 durationMs: 0, completedAt: 100, job: nil)
        let answer = ResultsAnswer(entries: [entry, failed], cursor: 4)
        try Self.sameAsCodable(answer, answer.json)
        let event = TaskEvent(taskId: "t3", status: "running", attempts: 1, job: "nightly", scheduledAtMs: 5)
        try Self.sameAsCodable(event, event.json)
    }
}
