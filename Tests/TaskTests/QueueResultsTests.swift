import Foundation
import ModHostTestKit
import Testing

/// `task.results` through the real host: a consumer long-polling on one connection while
/// another submits, the wait on the host clock, cursors monotonic across a kill -9, compaction.
@Suite struct QueueResultsTests {
    static let t0 = QueueBench.start

    static func cursors(_ answer: JSON) -> [Int64] {
        (answer["entries"].array ?? []).compactMap { $0["cursor"].int }
    }

    @Test func aLongPollIsAnsweredAsSoonAsAResultLands() throws {
        let path = try TemporaryDirectory.make(prefix: "task-sock") + "/host.sock"
        let bench = try QueueBench(extraArguments: ["--listen", "unix:\(path)"])
        try bench.host.waitForStderr(containing: "ready:")
        let consumer = try SocketClient(path: path)
        defer { consumer.close() }
        let pollID = JSON.int(Int64(consumer.takeID()))
        try consumer.send(raw: JSON.object([
            "jsonrpc": "2.0", "id": pollID, "method": "task.results", "params": ["consumer": "billing", "waitMs": 30_000],
        ]).text)
        guard try Poll.until({ try bench.host.call("modules.describe", ["id": "task"])["openCalls"] == 1 }) else {
            Issue.record("the long poll never reached the task module")
            return
        }
        // Another client submits; the poll is answered with its result, no clock move needed.
        let id = try bench.submit("target.ok", ["n": 1])["taskId"]
        let answer = try consumer.response(id: pollID)["result"]
        #expect(answer["cursor"] == 1 && answer["entries"][0]["taskId"] == id && answer["entries"][0]["result"] == ["n": 1], "\(answer)")
        #expect(answer["entries"][0]["status"] == "succeeded" && answer["entries"][0]["attempts"] == 1)
        #expect(answer["entries"][0]["completedAt"] == .int(Self.t0) && answer["entries"][0]["durationMs"] == 0)
        // The consumer's position moved: the next poll waits for the next result.
        let again = try consumer.call("task.results", ["consumer": "billing"])
        #expect(again == ["entries": [], "cursor": 1], "\(again)")
    }

    @Test func aLongPollEndsEmptyWhenItsWaitPassesOnTheHostClock() throws {
        let bench = try QueueBench()
        let pollID = JSON.int(Int64(bench.host.takeID()))
        try bench.host.send(raw: JSON.object([
            "jsonrpc": "2.0", "id": pollID, "method": "task.results", "params": ["consumer": "c", "waitMs": 5_000],
        ]).text)
        // Calls to one module keep their order: once this one is answered, the poll is held.
        #expect(try bench.host.call("task.results", ["limit": 1])["entries"] == [])
        #expect(try bench.host.call("modules.describe", ["id": "task"])["openCalls"] == 1)
        try bench.advance(by: 4_999)
        #expect(try bench.host.call("modules.describe", ["id": "task"])["openCalls"] == 1)
        try bench.advance(by: 1)
        #expect(try bench.host.response(id: pollID)["result"] == ["entries": [], "cursor": 0])
    }

    @Test func cursorsAndConsumerPositionsSurviveAKill() throws {
        let bench = try QueueBench()
        let ids = try (1...3).map { try bench.submit("target.ok", ["n": .int(Int64($0))])["taskId"] }
        for id in ids { _ = try bench.waitFor(id, "succeeded") }
        let read = try bench.host.call("task.results", ["consumer": "c", "limit": 2])
        #expect(Self.cursors(read) == [1, 2] && read["cursor"] == 2, "\(read)")
        let restarted = try bench.killAndRestart(at: Self.t0 + 10_000)
        let next = try restarted.submit("target.ok", ["n": 4])["taskId"]
        _ = try restarted.waitFor(next, "succeeded")
        let after = try restarted.host.call("task.results", ["consumer": "c"])
        #expect(Self.cursors(after) == [3, 4] && after["entries"][1]["taskId"] == next, "\(after)")
        #expect(next != ids[0] && next != ids[2], "task ids are never reused")
        // `after` overrides the stored position; a reader without a consumer reads from the start.
        #expect(Self.cursors(try restarted.host.call("task.results", ["consumer": "c", "after": 1])) == [2, 3, 4])
        #expect(Self.cursors(try restarted.host.call("task.results", ["limit": 2])) == [1, 2])
    }

    @Test func compactionWaitsForEveryConsumerAndKeepsTheNewestHundred() throws {
        let bench = try QueueBench()
        #expect(try bench.host.call("task.results", ["consumer": "slow"])["cursor"] == 0)
        var last = JSON.null
        for n in 1...105 { last = try bench.submit("target.ok", ["n": .int(Int64(n))])["taskId"] }
        _ = try bench.waitFor(last, "succeeded")
        guard try Poll.until({ try bench.host.call("task.results", ["after": 104])["cursor"] == 105 }) else {
            Issue.record("not every task finished")
            return
        }
        // "slow" has read nothing: all 105 stay.
        #expect(try bench.host.call("task.results", ["limit": 1000])["entries"].array?.count == 105)
        #expect(try bench.task("t1")["status"] == "succeeded")
        // Once it read them all, the oldest 5 go (with their tasks); the newest 100 stay.
        #expect(Self.cursors(try bench.host.call("task.results", ["consumer": "slow", "limit": 1000])).count == 105)
        let kept = Self.cursors(try bench.host.call("task.results", ["limit": 1000]))
        #expect(kept.count == 100 && kept.first == 6 && kept.last == 105)
        #expect(try bench.host.request("task.get", ["taskId": "t1"])["error"]["code"] == -32602)
        // Across a restart too, and the cursor goes on from 106.
        let restarted = try bench.killAndRestart(at: Self.t0 + 1_000)
        #expect(Self.cursors(try restarted.host.call("task.results", ["limit": 1000])).first == 6)
        let next = try restarted.submit("target.ok")["taskId"]
        _ = try restarted.waitFor(next, "succeeded")
        #expect(try restarted.task(next)["cursor"] == 106)
    }
}
