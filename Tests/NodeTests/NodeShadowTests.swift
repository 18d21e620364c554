import Foundation
import ModHostTestKit
import Testing

/// A shadow node instance (`modules.swap {mode: "shadow"}`) gets every call mirrored, the agent's
/// registration included, but sends no assignment: the agent sees the serving instance's tasks
/// only, each once.
@Suite struct NodeShadowTests {
    @Test func aShadowSendsNoAssignmentToAnAgent() throws {
        let node = try NodeHost()
        let copy = try TemporaryDirectory.make(prefix: "modhost-node-v2") + "/libNode-2.so"
        try FileManager.default.copyItem(atPath: node.harness.plugins + "/libNode.so", toPath: copy)
        #expect(try node.host.call("modules.swap", ["id": "node", "path": .string(copy), "mode": "shadow"])["mode"] == "shadow")
        // Registered after the shadow started: the shadow knows the node and its connection too.
        let agent = try node.agent("one", maxTasks: 4, mode: "silent")
        defer { agent.kill() }
        let first = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])["taskId"]
        // Both instances have run the mirrored assign before the second one is sent.
        var report = JSON.null
        #expect(try Poll.until {
            report = try node.host.call("modules.describe", ["id": "node"])["shadow"]
            return (report["mirrored"].int ?? 0) >= 2 && report["pending"] == 0
        }, "\(report)")
        let second = try node.host.call("node.assign", ["capability": "shell", "toolName": "ls", "wait": false])["taskId"]
        #expect(try agent.nextAssignment().taskId == first.string)
        #expect(try agent.nextAssignment().taskId == second.string, "the agent got a shadow's assignment")
    }
}
