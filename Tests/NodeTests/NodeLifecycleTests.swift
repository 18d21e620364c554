import Foundation
import ModHostTestKit
import Testing

/// `node.unregister`, `node.prune`, `node.stats`, and a dispatch that outlives any call:
/// `wait: false`, `node.taskGet`, and the completion events.
@Suite struct NodeLifecycleTests {
    static func worker(_ id: String) -> JSON { ["nodeId": .string(id), "name": .string(id), "type": "worker", "capabilities": ["shell"]] }

    @Test func unregisterForgetsTheNodeAndPublishes() throws {
        let node = try NodeHost()
        try node.host.call("node.register", Self.worker("w1"))
        try node.host.call("events.subscribe", ["topics": ["node.unregistered"]])
        #expect(try node.host.call("node.unregister", ["nodeId": "w1"])["nodeId"] == "w1")
        #expect(try node.host.nextEvent(topic: "node.unregistered")["data"] == ["nodeId": "w1", "name": "w1", "type": "worker"])
        #expect(try node.host.request("node.get", ["nodeId": "w1"])["error"]["data"]["reason"] == "node_not_registered")
        #expect(try node.host.call("node.list")["total"] == 0)
        // Gone from the store too: a restart does not bring it back.
        let restarted = try node.harness.killAndRestart(clockStart: ModuleHarness.defaultStart + 1_000)
        #expect(try restarted.host.call("node.list")["total"] == 0)
    }

    @Test func pruneRemovesOnlyNodesOfflineLongEnough() throws {
        let node = try NodeHost()
        try node.host.call("node.register", Self.worker("old"))
        try node.host.call("node.register", Self.worker("fresh"))
        try node.harness.advance(by: 95_000)  // both silent 90 s: offline at 90 s
        try node.host.call("node.heartbeat", ["nodeId": "fresh"])  // fresh is back
        try node.harness.advance(by: 59_000)  // old: offline for 64 s
        #expect(try node.host.call("node.prune", ["offlineForMs": 65_000])["pruned"] == [])
        try node.harness.advance(by: 1_000)
        #expect(try node.host.call("node.prune", ["offlineForMs": 65_000])["pruned"] == ["old"])
        let left = try node.host.call("node.list")
        #expect(left["total"] == 1 && left["nodes"][0]["nodeId"] == "fresh")
        #expect(try node.host.request("node.prune", ["offlineForMs": -1])["error"]["code"] == -32602)
    }

    @Test func statsCountAttemptsAndTheirTimesOnTheHostClock() throws {
        let node = try NodeHost()
        let agent = try node.agent("one", maxTasks: 2, mode: "silent")
        defer { agent.kill() }
        let a = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])["taskId"]
        let first = try agent.nextAssignment()
        try node.harness.advance(by: 1_500)
        try node.host.call("node.taskResult", ["taskId": a, "attemptId": .string(first.attemptId), "success": true])
        let b = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])["taskId"]
        let second = try agent.nextAssignment()
        try node.harness.advance(by: 500)
        try node.host.call("node.taskResult", ["taskId": b, "attemptId": .string(second.attemptId), "success": false, "error": ["message": "no"]])
        _ = try agent.nextAssignment()  // the retry (attempt 2) runs on the only node
        let stats = try node.host.call("node.stats")
        let one = stats["nodes"][0]
        #expect(one["nodeId"] == "one" && one["total"] == 3 && one["completed"] == 1 && one["failed"] == 1 && one["timedOut"] == 0)
        #expect(one["averageResponseMs"] == 1_000 && one["uptimeMs"] == 2_000)
        #expect(stats["byStatus"] == ["online": 1] && stats["total"] == 1 && stats["running"] == 1 && stats["queued"] == 0)
    }

    @Test func aDispatchLongerThanAnyCallIsFollowedByTaskGetAndEvents() throws {
        // The agent does not heartbeat: a heartbeat timeout past the hour keeps it online.
        let node = try NodeHost(config: ["heartbeatTimeoutMs": 86_400_000])
        let agent = try node.agent("slow", mode: "silent")
        defer { agent.kill() }
        try node.host.call("events.subscribe", ["topics": ["node.task_completed", "node.task_failed"]])
        let queued = try node.host.call("node.assign", ["capability": "shell", "toolName": "build", "timeoutMs": 7_200_000, "wait": false])
        #expect(queued["state"] == "running")
        let task = queued["taskId"]
        let attempt = try agent.nextAssignment()
        try node.harness.advance(by: 3_600_000)  // an hour on the host clock: far past any call's timeout
        #expect(try node.host.call("node.taskGet", ["taskId": task])["state"] == "running")
        try node.host.call("node.taskResult", ["taskId": task, "attemptId": .string(attempt.attemptId), "success": true, "result": ["artifact": "a.tar"]])
        let done = try node.host.nextEvent(topic: "node.task_completed")["data"]
        #expect(done["taskId"] == task && done["nodeId"] == "slow" && done["result"]["artifact"] == "a.tar")
        #expect(try node.host.call("node.taskGet", ["taskId": task])["state"] == "completed")
        // A second one fails: the failure event carries the reason and the attempts.
        let doomed = try node.host.call("node.assign", ["capability": "shell", "toolName": "build", "attempts": 1, "wait": false])["taskId"]
        _ = try agent.nextAssignment()
        try node.host.call("node.cancelTask", ["taskId": doomed])
        let failed = try node.host.nextEvent(topic: "node.task_failed")["data"]
        #expect(failed["taskId"] == doomed && failed["reason"] == "task_cancelled" && failed["attempts"] == 1)
    }
}
