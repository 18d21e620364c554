import Foundation
import ModHostTestKit
import Testing

/// Dispatch through real agent processes on the host's Unix socket.
@Suite struct NodeDispatchTests {
    @Test func assignReachesTheCapableAgentAndCompletesWithItsResult() throws {
        let node = try NodeHost()
        let cpu = try node.agent("cpu-1", capabilities: "shell")
        let gpu = try node.agent("gpu-1", capabilities: "shell,gpu", maxTasks: 4)
        defer { cpu.kill(); gpu.kill() }
        let done = try node.host.call("node.assign", ["capability": "gpu", "toolName": "render", "toolArgs": ["scene": 7]])
        #expect(done["nodeId"] == "gpu-1")
        #expect(done["result"]["args"]["scene"] == 7)
        #expect(done["attemptId"].string?.hasPrefix(done["taskId"].string ?? "?") == true)
        let stats = try node.host.call("node.get", ["nodeId": "gpu-1"])["stats"]
        #expect(stats["total"] == 1 && stats["completed"] == 1)
    }

    @Test func noCapableNodeFailsAtOnce() throws {
        let node = try NodeHost()
        let failure = try node.host.request("node.assign", ["capability": "gpu", "toolName": "x"])["error"]
        #expect(failure["code"] == -32000 && failure["data"]["reason"] == "no_capable_node")
        #expect(try node.host.call("node.list")["total"] == 0)
    }

    @Test func aSilentAgentTimesOutAndTheTaskFailsOverAndItsLateResultIsDropped() throws {
        let node = try NodeHost()
        let silent = try node.agent("silent", mode: "silent")
        defer { silent.kill() }
        let task = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "timeoutMs": 1_000, "wait": false])
        let taskId = task["taskId"].string ?? ""
        let first = try silent.nextAssignment()
        #expect(first.taskId == taskId)
        let echo = try node.agent("echo")
        defer { echo.kill() }
        try node.harness.advance(by: 1_000)
        #expect(try Poll.until { try node.host.call("node.taskGet", ["taskId": .string(taskId)])["state"] == "completed" })
        let done = try node.host.call("node.taskGet", ["taskId": .string(taskId)])
        #expect(done["nodeId"] == "echo" && done["attempt"] == 2)
        let late = try node.host.request("node.taskResult", ["taskId": .string(taskId), "attemptId": .string(first.attemptId), "success": true, "result": 1])
        #expect(late["error"]["data"]["reason"] == "stale_attempt")
        #expect(try node.host.call("node.taskGet", ["taskId": .string(taskId)])["result"]["node"] == "echo")
        _ = try node.host.waitForStderr(containing: "dropped a result for task")
        #expect(try node.host.call("node.get", ["nodeId": "silent"])["stats"]["timedOut"] == 1)
    }

    @Test func aKilledAgentsTaskFailsOverAtOnceAndTheNodeGoesOfflineAfterTheGrace() throws {
        let node = try NodeHost()
        let doomed = try node.agent("doomed", mode: "silent")
        let task = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])
        let taskId = task["taskId"].string ?? ""
        _ = try doomed.nextAssignment()
        let echo = try node.agent("echo")
        defer { echo.kill() }
        doomed.kill()
        // No clock move: the closed connection alone moves the attempt.
        #expect(try Poll.until { try node.host.call("node.taskGet", ["taskId": .string(taskId)])["state"] == "completed" })
        let done = try node.host.call("node.taskGet", ["taskId": .string(taskId)])
        #expect(done["nodeId"] == "echo")
        try node.host.call("events.subscribe", ["topics": ["node.status_changed"]])
        try node.harness.advance(by: 9_999)
        #expect(try node.host.call("node.get", ["nodeId": "doomed"])["status"] == "online")  // within the 10 s grace
        try node.harness.advance(by: 1)
        let change = try node.host.nextEvent(topic: "node.status_changed")["data"]
        #expect(change["nodeId"] == "doomed" && change["oldStatus"] == "online" && change["newStatus"] == "offline")
    }

    /// The less loaded node gets the task; after a timeout the retry goes to a node not tried
    /// yet even when the one that failed is now the least loaded; a late result of attempt 1
    /// while attempt 2 runs is dropped and the task completes with attempt 2's result only.
    @Test func loadPicksTheNodeTheRetryGoesElsewhereAndALateResultIsDroppedWhileTheNextAttemptRuns() throws {
        let node = try NodeHost()
        let busy = try node.agent("busy", maxTasks: 2, mode: "silent")
        defer { busy.kill() }
        let held = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])["taskId"]
        #expect(try busy.nextAssignment().taskId == held.string)  // busy: 1 of 2 (load 0.5)
        let idle = try node.agent("idle", maxTasks: 1, mode: "silent")
        defer { idle.kill() }
        let task = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "timeoutMs": 1_000, "wait": false])["taskId"]
        let first = try idle.nextAssignment()  // idle: load 0 beats 0.5
        #expect(first.taskId == task.string)
        try node.harness.advance(by: 1_000)
        let second = try busy.nextAssignment()  // idle is free again (load 0) but was tried
        #expect(second.taskId == task.string && second.attemptId.hasSuffix(".2"))
        let late = try node.host.request("node.taskResult", ["taskId": task, "attemptId": .string(first.attemptId), "success": true, "result": "late"])
        #expect(late["error"]["data"]["reason"] == "stale_attempt")
        #expect(try node.host.call("node.taskGet", ["taskId": task])["state"] == "running")
        try node.host.call("node.taskResult", ["taskId": task, "attemptId": .string(second.attemptId), "success": true, "result": "second"])
        let done = try node.host.call("node.taskGet", ["taskId": task])
        #expect(done["state"] == "completed" && done["result"] == "second" && done["nodeId"] == "busy")
    }

    @Test func aFullPoolQueuesByPriorityThenFIFO() throws {
        let node = try NodeHost()
        let agent = try node.agent("one", mode: "silent")
        defer { agent.kill() }
        var ids: [String] = []
        for priority in [5, 2, 9, 9] {
            ids.append(try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "priority": .int(Int64(priority)), "wait": false])["taskId"].string ?? "")
        }
        let first = try agent.nextAssignment()
        #expect(first.taskId == ids[0])
        #expect(try node.host.call("node.get", ["nodeId": "one"])["status"] == "busy")
        #expect(try node.host.call("node.tasks", ["state": "queued"])["total"] == 3)
        var order: [String] = []
        var current = first
        for _ in 0..<3 {
            try node.host.call("node.taskResult", ["taskId": .string(current.taskId), "attemptId": .string(current.attemptId), "success": true])
            current = try agent.nextAssignment()
            order.append(current.taskId)
        }
        #expect(order == [ids[2], ids[3], ids[1]])
    }

    @Test func threeTimeoutsExhaustTheAttempts() throws {
        let node = try NodeHost()
        let agent = try node.agent("one", mode: "silent")
        defer { agent.kill() }
        let id = JSON.int(Int64(node.host.takeID()))
        try node.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": "node.assign",
                                             "params": ["capability": "shell", "toolName": "ls", "timeoutMs": 2_000]]).text)
        for attempt in 1...3 {
            #expect(try agent.nextAssignment().attemptId.hasSuffix(".\(attempt)"))
            try node.harness.advance(by: 2_000)
        }
        let failure = try node.host.response(id: id)["error"]
        #expect(failure["data"]["reason"] == "task_timeout" && failure["data"]["attempts"] == 3)
    }

    /// The deadline travels with the call (ABI 1.2): a held `node.assign` gives the agent the
    /// time its caller still waits, not the task's longer `timeoutMs`, and ends the task when the
    /// caller stops waiting instead of retrying for nobody.
    @Test func aHeldAssignEndsAtItsCallersDeadline() throws {
        let node = try NodeHost(extraArguments: ["--call-timeout-ms", "3000"])
        let agent = try node.agent("one", mode: "silent")
        defer { agent.kill() }
        let id = JSON.int(Int64(node.host.takeID()))
        try node.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": "node.assign",
                                             "params": ["capability": "shell", "toolName": "ls", "timeoutMs": 60_000, "attempts": 3]]).text)
        let assignment = try agent.nextAssignmentWithTime()
        #expect(assignment.timeoutMs <= 3_000 && assignment.timeoutMs > 1_000, "the agent was given \(assignment.timeoutMs) ms")
        // The host answers the caller at its deadline (real time) ...
        #expect(try node.host.response(id: id)["error"]["code"] == -32004)
        // ... and at that time on the module's clock the task ends, on its first attempt.
        try node.harness.advance(by: 3_000)
        #expect(try Poll.until { try node.host.call("node.taskGet", ["taskId": .string(assignment.taskId)])["state"] == "failed" })
        let task = try node.host.call("node.taskGet", ["taskId": .string(assignment.taskId)])
        #expect(task["error"]["reason"] == "deadline_passed" && task["attempt"] == 1)
        let one = try node.host.call("node.get", ["nodeId": "one"])
        #expect(one["stats"]["timedOut"] == 1 && one["activeTasks"] == 0)
    }

    @Test func cancelEndsAQueuedTask() throws {
        let node = try NodeHost()
        let agent = try node.agent("one", mode: "silent")
        defer { agent.kill() }
        _ = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])
        let queued = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])["taskId"]
        #expect(try node.host.call("node.cancelTask", ["taskId": queued])["state"] == "cancelled")
        #expect(try node.host.call("node.taskGet", ["taskId": queued])["error"]["reason"] == "task_cancelled")
    }
}
