import CModHost
import ModHostPluginSDK
import Testing

@Suite struct AsyncTests {
    let harness = PluginHarness(entry: Arithmetic.pluginEntry())

    @Test func asyncHandlerReturnsPendingThenCompletes() async throws {
        let (status, call) = harness.call("slowSubtract", "[42, 23]")
        #expect(status == MH_PENDING)
        #expect(try await call.completion() == .result("19"))
        #expect(call.completions == 1)
    }

    @Test func asyncHandlerWithBadParamsFailsAtOnce() {
        let (status, call) = harness.call("slowSubtract", "[42]")
        #expect(status == MH_OK)
        guard case .error(let code, _, _) = call.outcome else {
            Issue.record("expected an immediate error, got \(String(describing: call.outcome))")
            return
        }
        #expect(code == -32602)
    }

    @Test func asyncHandlerAwaitsAnotherModule() async throws {
        let (status, call) = harness.call("relay", "{}")
        #expect(status == MH_PENDING)
        // Wait for the handler's task to reach the host.
        for _ in 0..<5_000 where harness.host.state.withLock({ $0.replies.isEmpty }) {
            try await Task.sleep(for: .milliseconds(1))
        }
        let pending = try #require(harness.host.state.withLock { $0.replies.first })
        #expect(pending.method == "other.double")
        #expect(pending.params == #"{"n":21}"#)
        #expect(call.outcome == nil)
        #expect(harness.host.reply("42"))
        #expect(try await call.completion() == .result("42"))
    }

    @Test func calleeErrorFailsTheAsyncCall() async throws {
        let (_, call) = harness.call("relay", "{}")
        for _ in 0..<5_000 where harness.host.state.withLock({ $0.replies.isEmpty }) {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(harness.host.reply(code: -32000, #"{"code":-32000,"message":"module error","data":{"code":5}}"#))
        #expect(try await call.completion() == .error(code: -32000, message: "module error", data: #"{"code":5}"#))
    }

    @Test func destroyCancelsTheTaskAndSilencesItsCompletion() async throws {
        let (status, call) = harness.call("relay", #"{"tag":"destroyed"}"#)
        #expect(status == MH_PENDING)
        for _ in 0..<5_000 where harness.host.state.withLock({ $0.replies.isEmpty }) {
            try await Task.sleep(for: .milliseconds(1))
        }
        harness.destroy()
        // The cancelled task may still fail the call while destroy runs (the table is valid
        // until destroy returns), never afterwards.
        let completionsAtDestroy = call.completions
        var outcome: String?
        for _ in 0..<5_000 where outcome == nil {
            try await Task.sleep(for: .milliseconds(1))
            outcome = relayOutcomes.withLock { $0["destroyed"] }
        }
        #expect(outcome == "CancellationError()")
        try await Task.sleep(for: .milliseconds(20))
        #expect(call.completions == completionsAtDestroy)
    }

    @Test func destroyFailsOutstandingReplyClosures() {
        #expect(harness.outcome("relayWithClosure", #"["closure"]"#) == .result("null"))
        #expect(harness.host.state.withLock { $0.replies.count } == 1)
        #expect(relayOutcomes.withLock { $0["closure"] } == nil)
        harness.destroy()
        let outcome = relayOutcomes.withLock { $0["closure"] }
        #expect(outcome?.hasPrefix("failure(the module instance was destroyed before the reply arrived") == true,
                "\(outcome ?? "none")")
    }

    @Test func replyClosureGetsTheResult() {
        #expect(harness.outcome("relayWithClosure", #"["reply"]"#) == .result("null"))
        #expect(harness.host.reply("4"))
        #expect(relayOutcomes.withLock { $0["reply"] } == "success(4)")
    }
}
