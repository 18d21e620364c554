import Foundation
import ModHostTestKit
import Testing

/// RFC 6749 §5.2 errors and transient failures through the real host, against the loopback
/// endpoint: suspension, the sibling's rotation, backoff with `Retry-After`, the whole-request
/// timeout, the body cap.
@Suite struct TokenFailureTests {
    private typealias B = TokenBench
    private let t0 = TokenBench.start

    private func bench(_ endpoint: TokenEndpoint, refresh: String = "rt-f-0001", config: [String: JSON] = [:], health: Bool = false,
                       expiresIn: Int64 = 10 * TokenBench.minute) throws -> TokenBench {
        let file = snakeToken(access: "at-f-secret-0001", refresh: refresh, expiresAtSeconds: (t0 + expiresIn) / 1000, endpoint: endpoint.url)
        let bench = try B(config: config, health: health, files: ["qwen-oauth-1-a.json": file])
        try bench.host.call("events.subscribe", ["topics": ["token.*"]])
        return bench
    }

    @Test func invalidGrantWithoutARotationSuspendsAndAsksForReauth() throws {
        let endpoint = try TokenEndpoint()  // accepts no refresh token: every grant is invalid
        let bench = try bench(endpoint)
        let error = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        #expect(error["code"] == -32000 && error["data"]["reason"] == "invalid_grant", "\(error)")
        let status = try bench.status("qwen-oauth-1-a")
        #expect(status["status"] == "suspended", "\(status)")
        #expect(status["reason"].string?.contains("invalid_grant") == true, "\(status)")
        #expect(status["history"]["failures"] == 1 && status["history"]["lastError"] == "invalid_grant", "\(status)")
        let reauth = try bench.host.nextEvent(topic: "token.reauth_required")
        #expect(reauth["data"]["providerKeys"] == ["qwen.a", "qwen.1"] && reauth["data"]["error"] == "invalid_grant", "\(reauth)")
        let access = try bench.host.expectFailure("token.access", ["id": "qwen-oauth-1-a"])
        #expect(access["data"]["reason"] == "suspended", "\(access)")
        #expect(try endpoint.requests().count == 1)
        bench.expectNoLeak(of: ["at-f-secret-0001", "rt-f-0001", "secret-a"])
    }

    @Test func invalidGrantAfterASiblingRotatedTheTokenAdoptsTheSiblingsFile() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        let bench = try bench(endpoint)
        // Another tool refreshes the token (and rotates it) while our request is on its way.
        let sibling = snakeToken(access: "at-sibling-secret-9", refresh: "rt-sibling-9", expiresAtSeconds: (t0 + 2 * B.hour) / 1000,
                                 endpoint: endpoint.url)
        try endpoint.control(["script": [["sibling": ["file": .string("\(bench.authDir)/qwen-oauth-1-a.json"), "content": sibling]]]])
        let after = try bench.refresh("qwen-oauth-1-a")
        #expect(after["status"] == "valid" && after["expiresAt"] == .int(t0 + 2 * B.hour), "\(after)")
        #expect(after["history"]["lastResult"] == "adopted" && after["history"]["failures"] == 0, "\(after)")
        let answer = try bench.host.call("token.access", ["id": "qwen-oauth-1-a"])
        #expect(answer["accessToken"] == "at-sibling-secret-9")
        #expect(bench.events("token.reauth_required").isEmpty && bench.events("token.refresh_failed").isEmpty)
    }

    @Test func invalidClientSuspendsAtOnce() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        try endpoint.control(["clients": ["client-a": "another-secret"]])
        let bench = try bench(endpoint)
        let error = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        #expect(error["data"]["reason"] == "invalid_client", "\(error)")
        #expect(try bench.status("qwen-oauth-1-a")["status"] == "suspended")
        #expect(try bench.host.nextEvent(topic: "token.suspended")["data"]["error"] == "invalid_client")
    }

    /// 500, then 429 with `Retry-After: 200`, then a non-JSON 200: the background refresh backs
    /// off 30 s, then 200 s (the server asked for more than 60), then the third automatic
    /// failure suspends the token.
    @Test func transientFailuresBackOffHonourRetryAfterAndSuspendAfterThree() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        try endpoint.control(["script": [["status": 500], ["status": 429, "retryAfter": 200, "json": ["error": "slow_down"]], ["nonJSON": true]]])
        let bench = try bench(endpoint)  // inside the 30 min window: refreshed in the background
        try bench.harness.advance(by: 1)
        let first = try bench.waitForStatus("qwen-oauth-1-a") { $0["history"]["failures"] == 1 }
        #expect(first["history"]["lastError"] == "http_500", "\(first)")
        let retryAt = try #require(first["nextRefreshAt"].int)
        #expect(retryAt == t0 + 1 + 30 * B.second, "\(first)")

        try bench.at(retryAt - 1)
        #expect(try endpoint.requests().count == 1, "no retry before the backoff ends")
        try bench.at(retryAt)
        let second = try bench.waitForStatus("qwen-oauth-1-a") { $0["history"]["failures"] == 2 }
        #expect(second["history"]["lastError"] == "rate_limited", "\(second)")
        #expect(second["nextRefreshAt"] == .int(retryAt + 200 * B.second), "Retry-After 200 s beats the 60 s step: \(second)")

        try bench.at(retryAt + 200 * B.second)
        let third = try bench.waitForStatus("qwen-oauth-1-a") { $0["status"] == "suspended" }
        #expect(third["history"]["lastError"] == "invalid_response" && third["history"]["failureStreak"] == 3, "\(third)")
        #expect(try endpoint.requests().count == 3)
        #expect(bench.events("token.refresh_failed").count == 3)
        #expect(try bench.host.nextEvent(topic: "token.reauth_required")["data"]["error"] == "invalid_response")
    }

    /// A hanging endpoint: the whole request ends at `refreshTimeoutMs` (1 s here), on real time
    /// although the host's clock is manual.
    @Test func aHangingEndpointTimesOutOnTheWholeRequest() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        try endpoint.control(["script": [["hang": true]]])
        let bench = try bench(endpoint, config: ["refreshTimeoutMs": 1000])
        let started = Date()
        let error = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        let seconds = Date().timeIntervalSince(started)
        #expect(error["data"]["reason"] == "timeout", "\(error)")
        #expect(seconds >= 0.9 && seconds < 10, "took \(seconds) s")
        #expect(error["data"]["retryAfterMs"] == 30_000, "\(error)")
    }

    /// An endpoint that trickles a byte every 100 ms is never idle: the timeout is on the whole
    /// request, so it still ends at `refreshTimeoutMs`.
    @Test func aTricklingEndpointTimesOutOnTheWholeRequest() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        try endpoint.control(["script": [["trickleMs": 100]]])
        let bench = try bench(endpoint, config: ["refreshTimeoutMs": 1000])
        let started = Date()
        let error = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        let seconds = Date().timeIntervalSince(started)
        #expect(error["data"]["reason"] == "timeout", "\(error)")
        #expect(seconds >= 0.9 && seconds < 10, "took \(seconds) s (the trickle lasts 100 s)")
    }

    /// 10 MB in 64 KiB chunks 3 ms apart (loopback would otherwise deliver it all before a
    /// cancel lands): the module stops the transfer once 64 KiB came, so most is never sent.
    @Test func aTenMegabyteBodyIsCutAtTheCap() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        try endpoint.control(["script": [["bigBytes": 10_485_760, "chunkDelayMs": 3]]])
        let bench = try bench(endpoint)
        let error = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        #expect(error["data"]["reason"] == "response_too_large", "\(error)")
        // The transfer was cancelled while the body streamed in: the endpoint could not send it all.
        let deadline = Date(timeIntervalSinceNow: 20)
        var sent = try endpoint.control([:])["bigSent"]
        while sent == .null, Date() < deadline {
            usleep(20_000)
            sent = try endpoint.control([:])["bigSent"]
        }
        #expect((sent.int ?? .max) < 5_000_000, "sent \(sent)")
        let memory = try #require(ProcFS.memory(of: bench.host.process.processIdentifier))
        #expect(memory.peak < 200 * 1024 * 1024, "peak RSS \(memory.peak)")
    }

    @Test func aRedirectIsRefused() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-f-0001")
        try endpoint.control(["script": [["redirect": "http://127.0.0.2:9/steal"]]])
        let bench = try bench(endpoint)
        let error = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        #expect(error["data"]["reason"] == "redirect_refused", "\(error)")
        #expect(try endpoint.requests().count == 1)
    }
}
