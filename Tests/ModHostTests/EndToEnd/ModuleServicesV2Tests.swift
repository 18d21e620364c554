import Foundation
import ModHostTestKit
import Testing

/// What ABI 1.2 gives a module besides deadlines: the client a call came from, an event to one
/// client, the shadow flag at init, and typed exports that take the instance.
@Suite struct ModuleServicesV2Tests {
    let host: HostProcess
    let plugins: String

    init() throws {
        plugins = try TestPlugins.directory()
        try TestPlugins.services(into: plugins)
        host = try HostProcess(plugins: plugins)
    }

    @Test func callClientIsTheStdioClientOrZeroForAModule() throws {
        #expect(try host.call("svc.client") == 1)
        #expect(try host.call("svc.forward", ["method": "svc.client"]) == ["code": 0, "reply": 0])
        #expect(try host.call("svc.forward", ["method": "svc.client", "deadline_ms": 5000]) == ["code": 0, "reply": 0])
    }

    /// node's task assignment: an event to one client, which subscribed to nothing.
    @Test func notifyClientReachesThatClientWithoutASubscription() throws {
        let client = try #require(host.call("svc.client").int)
        let status = try host.call("svc.notify", ["client": .int(client), "topic": "node.task_assign", "data": ["task": 7]])
        #expect(status == 0)
        let event = try host.nextEvent(topic: "node.task_assign")
        #expect(event["data"] == ["task": 7])
        #expect(event["ts"].int != nil)
        #expect(try host.call("events.subscribe", ["topics": []])["subscribed"] == [])
    }

    /// An unknown client is an error code (MH_NO_CLIENT), an empty topic MH_ERROR; the host serves on.
    @Test func aMissingClientIsAnErrorCodeNotACrash() throws {
        #expect(try host.call("svc.notify", ["client": 7, "topic": "node.task_assign"]) == -3)
        #expect(try host.call("svc.notify", ["client": 0, "topic": "node.task_assign"]) == -3)
        #expect(try host.call("svc.notify", ["client": 1, "topic": ""]) == -1)
        #expect(try host.call("svc.ping") == "pong")
        #expect(!host.unreadLines.contains { $0.contains("\"method\":\"event\"") })
    }

    /// The instance pointer comes first: state without a global.
    @Test func typedExportsTakingTheInstanceReadAndChangeItsState() throws {
        #expect(try host.call("svc.add", [2]) == 2)
        #expect(try host.call("svc.add", ["n": 40]) == 42)
        #expect(try host.call("svc.peek") == 42)
        #expect(try host.call("svc.total") == 42)  // the same state, through handle
        #expect(try host.call("svc.twice", [21]) == 42)  // exports_v2 without the instance
        let error = try host.expectFailure("svc.add", [1, 2])
        #expect(error["code"] == -32602)
        #expect(error["message"].string?.contains("export add takes 1 parameter (n), got 2") == true, "\(error)")
        let exports = try #require(host.call("modules.describe", ["id": "svc"])["exports"].array)
        #expect(exports.first { $0["name"] == "add" } == ["name": "add", "signature": "i64(i64)", "params": ["n"], "instance": true])
        #expect(exports.first { $0["name"] == "twice" }?["instance"] == .null)
    }

    /// A shadow is told it is one at init; the serving instance and a promoted one are not.
    @Test func initTellsAShadowItIsOne() throws {
        let next = try TestPlugins.services(into: plugins, version: "2.0.0", name: "libsvc-v2.next")
        #expect(try host.call("svc.shadow") == false)
        try host.call("modules.swap", ["id": "svc", "path": .string(next), "mode": "shadow"])
        #expect(try host.call("svc.shadow") == false)  // answered by the serving instance
        var shadow = JSON.null
        _ = try Poll.until(every: .milliseconds(2)) {
            shadow = try host.call("modules.describe", ["id": "svc"])["shadow"]
            return shadow["differed"] == 1
        }
        #expect(shadow["differed"] == 1, "\(shadow)")
        #expect(shadow["samples"][0]["serving"] == "false")
        #expect(shadow["samples"][0]["shadow"] == "true")
        try host.call("modules.promote", ["id": "svc"])
        #expect(try host.call("svc.shadow") == false)
        #expect(try host.shutdown() == 0)
    }
}
