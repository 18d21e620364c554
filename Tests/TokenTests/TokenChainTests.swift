import Foundation
import ModHostTestKit
import Testing

/// The token → health chain through the real binary with both modules: `token.reauth_required`
/// takes every key the token serves out of `health.available`, a re-login (the file rewritten)
/// lifts the suspension and `token.refreshed` brings them back.
@Suite struct TokenChainTests {
    private typealias B = TokenBench
    private let t0 = TokenBench.start

    @Test func reauthBlocksTheKeysAndAReloginOnDiskFreesThem() throws {
        let endpoint = try TokenEndpoint()  // accepts no refresh token: invalid_grant
        let file = snakeToken(access: "at-chain-secret", refresh: "rt-chain-dead", expiresAtSeconds: (t0 + 10 * B.minute) / 1000, endpoint: endpoint.url)
        let bench = try B(health: true, files: ["qwen-oauth-1-a.json": file])
        try bench.host.call("events.subscribe", ["topics": ["token.*"]])
        let keys: JSON = ["providerKeys": ["qwen.a", "qwen.1", "other.k"]]
        #expect(try bench.host.call("health.available", keys)["available"] == ["qwen.a", "qwen.1", "other.k"])

        _ = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-1-a"])
        _ = try bench.host.nextEvent(topic: "token.reauth_required")
        let blocked = try bench.host.call("health.available", keys)
        #expect(blocked["available"] == ["other.k"], "\(blocked)")

        // A re-login by another tool rewrites the file with a fresh token.
        try endpoint.accept("rt-chain-new")
        try bench.write("qwen-oauth-1-a.json", snakeToken(access: "at-chain-new-secret", refresh: "rt-chain-new",
                                                           expiresAtSeconds: (t0 + 3 * B.hour) / 1000, endpoint: endpoint.url))
        let resumed = try bench.host.nextEvent(topic: "token.resumed")
        #expect(resumed["data"]["id"] == "qwen-oauth-1-a", "\(resumed)")
        _ = try bench.host.nextEvent(topic: "token.refreshed")
        let status = try bench.status("qwen-oauth-1-a")
        #expect(status["status"] == "valid" && status["history"]["failureStreak"] == 0, "\(status)")
        #expect(try bench.host.call("health.available", keys)["available"] == ["qwen.a", "qwen.1", "other.k"])
        #expect(try bench.host.call("token.access", ["id": "qwen-oauth-1-a"])["accessToken"] == "at-chain-new-secret")
        bench.expectNoLeak(of: ["at-chain-secret", "rt-chain-dead", "at-chain-new-secret", "rt-chain-new", "secret-a"])
    }

    /// `token.suspend` and `token.resume` by hand.
    @Test func suspendAndResumeByHand() throws {
        let bench = try B(files: ["k.json": ["access_token": "at-hand-secret", "expires_at": .int((t0 + B.hour) / 1000)]])
        try bench.host.call("events.subscribe", ["topics": ["token.*"]])
        #expect(try bench.host.call("token.suspend", ["id": "k"])["status"] == "suspended")
        #expect(try bench.host.nextEvent(topic: "token.suspended")["data"]["error"] == "manual")
        #expect(try bench.host.expectFailure("token.access", ["id": "k"])["data"]["reason"] == "suspended")
        #expect(try bench.host.call("token.resume", ["id": "k"])["status"] == "valid")
        _ = try bench.host.nextEvent(topic: "token.resumed")
        #expect(try bench.host.call("token.access", ["id": "k"])["accessToken"] == "at-hand-secret")
        let missing = try bench.host.expectFailure("token.status", [:])
        #expect(missing["code"] == -32602 && missing["message"].string?.contains("id") == true, "\(missing)")
        #expect(try bench.host.expectFailure("token.status", ["id": "nope"])["data"]["reason"] == "token_not_found")
    }
}
