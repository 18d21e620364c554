import Foundation
import ModHostTestKit
import Testing

/// Every call has a deadline (DESIGN.md, "ABI 1.2"): a client's gets `--call-timeout-ms`, a
/// module's call through `call_v2` the one its caller gives, and the callee can read what is
/// left with `call_remaining_ms`, also of a pending call.
@Suite struct CallDeadlineV2Tests {
    static let callTimeoutMs: Int64 = 120_000

    let host: HostProcess

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.services(into: plugins)
        try TestPlugins.probe(into: plugins)
        host = try HostProcess(plugins: plugins, extraArguments: ["--call-timeout-ms", String(Self.callTimeoutMs)])
    }

    /// `svc.forward`: the callee's reply as `{code, reply}`.
    private func forward(_ method: String, params: JSON? = nil, deadlineMs: Int64?) throws -> JSON {
        var request: [String: JSON] = ["method": .string(method)]
        if let params { request["params"] = params }
        if let deadlineMs { request["deadline_ms"] = .int(deadlineMs) }
        return try host.call("svc.forward", .object(request))
    }

    @Test func aClientsCallHasTheCallTimeoutLeft() throws {
        let remaining = try #require(host.call("svc.remaining").int)
        #expect(remaining > Self.callTimeoutMs - 10_000 && remaining <= Self.callTimeoutMs, "\(remaining)")
    }

    /// A task whose timeout is an hour is not cut at the host's two minutes.
    @Test func callV2GivesTheCalleeItsOwnDeadline() throws {
        let hour: Int64 = 3_600_000
        let long = try forward("svc.remaining", deadlineMs: hour)
        #expect(long["code"] == 0)
        let remaining = try #require(long["reply"].int)
        #expect(remaining > hour - 10_000 && remaining <= hour, "\(long)")
        // 0, and plain call, mean --call-timeout-ms.
        for deadline in [0, nil] as [Int64?] {
            let reply = try forward("svc.remaining", deadlineMs: deadline)
            let left = try #require(reply["reply"].int)
            #expect(left > Self.callTimeoutMs - 10_000 && left <= Self.callTimeoutMs, "deadline_ms \(String(describing: deadline)): \(reply)")
        }
    }

    @Test func aShorterDeadlineFailsTheCalleesCallWith32004() throws {
        let reply = try forward("probe.never", deadlineMs: 300)
        #expect(reply["code"] == -32004, "\(reply)")
        #expect(reply["reply"]["message"] == "Call timed out: probe.never was not completed within 300 ms (the deadline its caller set with call_v2)")
        #expect(reply["reply"]["data"]["module"] == "probe")
    }

    @Test func deadlinesOver24HoursAreRefused() throws {
        let day: Int64 = 86_400_000
        #expect(try forward("svc.ping", deadlineMs: day) == ["code": 0, "reply": "pong"])
        let error = try host.expectFailure("svc.forward", ["method": "svc.ping", "deadline_ms": .int(day + 1)])
        #expect(error["code"] == -32602, "\(error)")
        try host.waitForStderr(containing: "deadline_ms 86400001 is over the limit of 86400000 (24 h)")
        #expect(try host.call("svc.ping") == "pong")
    }

    /// A call waiting behind a blocked module with a later deadline still fails at its own,
    /// not when the one ahead of it is due.
    @Test func aShortDeadlineBehindALongOneInTheQueueStillHolds() throws {
        let sleeping = JSON.int(Int64(host.takeID()))
        try host.send(raw: JSON.object(["jsonrpc": "2.0", "id": sleeping, "method": "probe.sleep", "params": [4000]]).text)
        try host.waitUntilRunning("probe")
        let queued = JSON.int(Int64(host.takeID()))
        try host.send(raw: JSON.object(["jsonrpc": "2.0", "id": queued, "method": "probe.seq", "params": [1]]).text)
        let reply = try forward("probe.seq", params: [2], deadlineMs: 200)
        #expect(reply["code"] == -32004, "\(reply)")
        // The 200 ms deadline held while probe was still asleep (4 s, 20× the target).
        #expect(!host.stdoutLines.contains { (try? JSON(parsing: $0))?["id"] == sleeping }, "answered only after the sleep ended")
        #expect(try host.response(id: sleeping)["result"] == 4000)
        #expect(try host.response(id: queued)["result"] == 1)
    }

    /// The remaining deadline of a pending call, and MH_EXPIRED once it timed out.
    @Test func aPendingCallsRemainingDeadlineIsVisible() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.services(into: plugins)
        // 5 s: the two calls below must come while the hold is pending, on a loaded machine too.
        let short = try HostProcess(plugins: plugins, extraArguments: ["--call-timeout-ms", "5000"])
        let held = JSON.int(Int64(short.takeID()))
        try short.send(raw: JSON.object(["jsonrpc": "2.0", "id": held, "method": "svc.hold"]).text)
        // Calls to one module run in order: the hold is pending by now.
        let left = try #require(short.call("svc.held_remaining").int)
        #expect(left > 0 && left <= 5000, "\(left)")
        #expect(try short.call("svc.held_client") == 1)
        #expect(try short.response(id: held)["error"]["code"] == -32004)
        #expect(try short.call("svc.held_remaining") == -2)  // MH_EXPIRED
        #expect(try short.call("svc.release") == -2)  // respond after the timeout: MH_EXPIRED
        #expect(try short.shutdown() == 0)
    }
}
