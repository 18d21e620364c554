import Foundation
import ModHostTestKit
import Testing

@Suite struct NodeQuotaTests {
    @Test func the31stRequestInAMinuteIsRefusedUntilTheOldestLeaves() throws {
        let node = try NodeHost()
        try node.host.call("node.register", NodeRegistryTests.worker)
        for i in 0..<30 {
            _ = try node.host.call("node.acquire", ["nodeId": "w1", "kind": "request"])
            if i == 0 { try node.harness.advance(by: 1_000) }
        }
        let refused = try node.host.request("node.acquire", ["nodeId": "w1", "kind": "request"])["error"]["data"]
        #expect(refused["reason"] == "requests_per_minute_exceeded" && refused["retryAfterMs"] == 59_000)
        #expect(try node.host.call("node.quota", ["nodeId": "w1"])["requests"]["remaining"] == 0)
        try node.harness.advance(by: 59_000)
        _ = try node.host.call("node.acquire", ["nodeId": "w1", "kind": "request"])
        // Streams have the burst: 60 in the window, and 3 at once.
        let stream = try node.host.request("node.acquire", ["nodeId": "w1", "kind": "stream"])
        #expect(stream["result"]["permitId"].string != nil)
    }

    @Test func theTokenDayResetsAtUTCMidnightAndCountersSurviveARestart() throws {
        let node = try NodeHost(config: ["quotas": ["default": ["maxTokensPerDay": 1_000]]])
        try node.host.call("node.register", NodeRegistryTests.worker)
        try node.harness.at(ModuleHarness.defaultStart + 86_400_000 - 10_000)  // 23:59:50 UTC
        let permit = try node.host.call("node.acquire", ["nodeId": "w1", "kind": "request"])["permitId"]
        try node.host.call("node.release", ["permitId": permit, "tokensUsed": 1_200])  // overshoot is recorded
        let restarted = try node.harness.killAndRestart(clockStart: ModuleHarness.defaultStart + 86_400_000 - 5_000)
        let refused = try restarted.host.request("node.acquire", ["nodeId": "w1", "kind": "request"])["error"]["data"]
        #expect(refused["reason"] == "token_quota_exceeded" && refused["retryAfterMs"] == 5_000)
        try restarted.advance(by: 5_000)
        #expect(try restarted.host.call("node.acquire", ["nodeId": "w1", "kind": "request"])["permitId"].string != nil)
    }

    @Test func aLapsedStreamPermitFreesItsSlot() throws {
        let node = try NodeHost()
        try node.host.call("node.register", NodeRegistryTests.worker)
        for _ in 0..<3 { _ = try node.host.call("node.acquire", ["nodeId": "w1", "kind": "stream"]) }
        let refused = try node.host.request("node.acquire", ["nodeId": "w1", "kind": "stream"])["error"]["data"]
        #expect(refused["reason"] == "stream_concurrency_exceeded" && refused["retryAfterMs"] == 600_000)
        try node.harness.advance(by: 600_000)
        #expect(try node.host.call("node.acquire", ["nodeId": "w1", "kind": "stream"])["permitId"].string != nil)
    }

    /// Limits by node type, then by tag (a later tag wins), over the default.
    @Test func perTypeAndPerTagLimitsOverrideTheDefault() throws {
        let node = try NodeHost(config: ["quotas": ["default": ["maxRequestsPerMinute": 3],
                                                    "types": ["companion": ["maxRequestsPerMinute": 2]],
                                                    "tags": ["tiny": ["maxRequestsPerMinute": 1]]]])
        try node.host.call("node.register", ["nodeId": "plain", "name": "plain", "type": "worker", "capabilities": ["shell"]])
        try node.host.call("node.register", ["nodeId": "gpu", "name": "gpu", "type": "companion", "capabilities": ["shell"]])
        try node.host.call("node.register", ["nodeId": "tiny", "name": "tiny", "type": "companion", "capabilities": ["shell"], "tags": ["tiny"]])
        func admitted(_ id: String) throws -> Int {
            var count = 0
            while try node.host.request("node.acquire", ["nodeId": .string(id), "kind": "request"])["result"] != .null { count += 1 }
            return count
        }
        #expect(try admitted("plain") == 3)
        #expect(try admitted("gpu") == 2)
        #expect(try admitted("tiny") == 1)
        #expect(try node.host.call("node.quota", ["nodeId": "tiny"])["requests"]["limit"] == 1)
    }
}
