import Foundation
import ModHostTestKit
import Testing

@Suite struct NodeRegistryTests {
    static let worker: JSON = ["nodeId": "w1", "name": "w1", "type": "worker", "capabilities": ["shell"]]

    @Test func startsEmptyWithNoConfig() throws {
        let node = try NodeHost()
        #expect(try node.host.call("node.list") == ["nodes": [], "total": 0])
        #expect(try node.host.call("node.tasks")["total"] == 0)
    }

    @Test func aSilentNodeTurnsOfflineAfterTheHeartbeatTimeoutAndBackOnlineWithAHeartbeat() throws {
        let node = try NodeHost()
        let answer = try node.host.call("node.register", Self.worker)
        #expect(answer["heartbeatIntervalMs"] == 30_000 && answer["heartbeatTimeoutMs"] == 90_000)
        try node.host.call("events.subscribe", ["topics": ["node.status_changed"]])
        try node.harness.advance(by: 85_000)
        #expect(try node.host.call("node.get", ["nodeId": "w1"])["status"] == "online")
        try node.harness.advance(by: 10_000)  // 95 s: the 5 s check has seen it
        let change = try node.host.nextEvent(topic: "node.status_changed")["data"]
        #expect(change == ["nodeId": "w1", "oldStatus": "online", "newStatus": "offline"])
        try node.host.call("node.heartbeat", ["nodeId": "w1"])
        #expect(try node.host.nextEvent(topic: "node.status_changed")["data"]["oldStatus"] == "offline")
        let unknown = try node.host.request("node.heartbeat", ["nodeId": "nope"])["error"]["data"]["reason"]
        #expect(unknown == "node_not_registered")
    }

    @Test func afterARestartNodesAreUnknownUntilTheyHeartbeat() throws {
        let node = try NodeHost()
        try node.host.call("node.register", Self.worker)
        let restarted = try node.harness.killAndRestart(clockStart: ModuleHarness.defaultStart + 1_000)
        #expect(try restarted.host.call("node.get", ["nodeId": "w1"])["status"] == "unknown")
        try restarted.host.call("node.heartbeat", ["nodeId": "w1"])
        #expect(try restarted.host.call("node.get", ["nodeId": "w1"])["status"] == "online")
    }

    @Test func drainStopsNewTasks() throws {
        let node = try NodeHost()
        try node.host.call("node.register", Self.worker)
        #expect(try node.host.call("node.drain", ["nodeId": "w1"])["status"] == "draining")
        #expect(try node.host.request("node.assign", ["capability": "shell", "toolName": "x"])["error"]["data"]["reason"] == "no_capable_node")
    }
}
