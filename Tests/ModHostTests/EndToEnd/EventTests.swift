import Foundation
import ModHostTestKit
import Testing

/// Events between modules and the control channel, and calls from one module to another, through
/// the registry of the real host (DESIGN.md, Registry and Control channel).
@Suite struct EventTests {
    let host: HostProcess

    /// A host serving the echo example (subscribed to `echo.ping.*`) and a probe (`probe.in.*`).
    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        try TestPlugins.probe(into: plugins)
        host = try HostProcess(plugins: plugins)
    }

    @discardableResult
    private func subscribe(_ topics: JSON) throws -> JSON {
        try host.call("events.subscribe", ["topics": topics])
    }

    /// `events.publish` of an event the channel is subscribed to: returns the notification.
    @discardableResult
    private func publishReceived(_ topic: String, _ data: JSON) throws -> JSON {
        try host.callPublishing(topic, "events.publish", ["topic": .string(topic), "data": data]).event
    }

    @Test func moduleEventReachesAChannelSubscription() throws {
        #expect(try subscribe(["echo.*"])["subscribed"] == ["echo.*"])
        let (event, result) = try host.callPublishing("echo.announced", "echo.announce", ["release": "1.2", "n": 7])
        #expect(result == true)
        #expect(event["topic"] == "echo.announced")
        #expect(event["data"] == ["release": "1.2", "n": 7])
        let ts = try #require(event["ts"].int, "ts should be a number: \(event)")
        #expect(ts > 0)
    }

    @Test func starPatternGetsEveryTopic() throws {
        try subscribe(["*"])
        #expect(try host.callPublishing("echo.announced", "echo.announce", ["from-echo"]).event["data"] == ["from-echo"])
        #expect(try publishReceived("somewhere.else.entirely", ["x": 1])["data"] == ["x": 1])
        #expect(try publishReceived("plain", nil)["data"] == .null)
    }

    @Test func unsubscribeStopsDelivery() throws {
        try subscribe(["echo.*", "sentinel"])
        #expect(try host.callPublishing("echo.announced", "echo.announce", ["first"]).event["data"] == ["first"])

        #expect(try host.call("events.unsubscribe", ["topics": ["echo.*"]])["subscribed"] == ["sentinel"])
        #expect(try host.call("echo.announce", ["second"]) == true)
        // Everything echo published before the sentinel has been written by the time it arrives.
        try publishReceived("sentinel", "sync")
        let announced = host.stdoutLines.compactMap { try? JSON(parsing: $0) }
            .filter { $0["method"] == "event" && $0["params"]["topic"] == "echo.announced" }
        #expect(announced.map { $0["params"]["data"] } == [["first"]], "an event arrived after unsubscribe")
    }

    @Test func publishedEventReachesAModuleSubscription() throws {
        #expect(try host.call("probe.last_event") == .null)
        #expect(try host.call("events.publish", ["topic": "probe.in.x", "data": ["k": "v"]])["subscribers"] == 1)
        #expect(try host.call("probe.last_event") == "probe.in.x")

        #expect(try host.call("events.publish", ["topic": "probe.out.y", "data": ["k": "v"]])["subscribers"] == 0)
        #expect(try host.call("probe.last_event") == "probe.in.x", "probe is not subscribed to probe.out.*")
    }

    @Test func moduleAnswersAnEventWithAnEvent() throws {
        try subscribe(["echo.pong"])
        let pong = try host.callPublishing("echo.pong", "events.publish", ["topic": "echo.ping.1", "data": ["seq": 1, "note": "hello"]])
        #expect(pong.result["subscribers"] == 1, "echo (echo.ping.*) should be the one subscriber")
        #expect(pong.event["data"] == ["seq": 1, "note": "hello"])
    }

    @Test func moduleCallsAnotherModule() throws {
        #expect(try host.call("probe.call", ["method": "echo.add", "params": [2, 3]]) == 5)
        #expect(try host.call("probe.call", ["method": "echo.ping"]) == "pong")
    }

    @Test func moduleCallToAMissingModuleFailsWithMethodNotFound() throws {
        let error = try host.expectFailure("probe.call", ["method": "missing.ping"])
        #expect(error["code"] == -32601, "\(error)")
        #expect((error["message"].string ?? "").contains("missing"), "\(error)")
        #expect(try host.call("probe.ping") == "pong")
    }
}
