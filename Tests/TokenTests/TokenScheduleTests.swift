import Foundation
import ModHostTestKit
import Testing
import TokenCore

/// The refresh-ahead window with its per-token jitter, the blocking `token.access` near expiry,
/// single flight, `token.refreshDue`: time crossed with the manual clock only.
@Suite struct TokenScheduleTests {
    private typealias B = TokenBench
    private let t0 = TokenBench.start

    /// Two tokens expiring together refresh at the window's start plus their own jitter
    /// (FNV-1a of the id, up to 10 % of the window, at most 3 min), not before.
    @Test func theBackgroundRefreshComesAtTheWindowPlusTheTokensJitter() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-s-a")
        try endpoint.accept("rt-s-b")
        let expiry = t0 + 2 * B.hour
        let files: [String: JSON] = [
            "qwen-oauth-1-a.json": snakeToken(access: "at-s-secret-a", refresh: "rt-s-a", expiresAtSeconds: expiry / 1000, endpoint: endpoint.url),
            "qwen-oauth-2-b.json": snakeToken(access: "at-s-secret-b", refresh: "rt-s-b", expiresAtSeconds: expiry / 1000, endpoint: endpoint.url),
        ]
        let bench = try B(files: files)
        let window = 30 * B.minute
        let dueA = expiry - window + Jitter.ms(for: "qwen-oauth-1-a", windowMs: window)
        let dueB = expiry - window + Jitter.ms(for: "qwen-oauth-2-b", windowMs: window)
        #expect(dueA != dueB, "the jitter spreads them")
        #expect(try bench.status("qwen-oauth-1-a")["nextRefreshAt"] == .int(dueA))
        #expect(try bench.status("qwen-oauth-2-b")["nextRefreshAt"] == .int(dueB))
        let (first, firstDue, second, secondDue) = dueA < dueB ? ("qwen-oauth-1-a", dueA, "qwen-oauth-2-b", dueB) : ("qwen-oauth-2-b", dueB, "qwen-oauth-1-a", dueA)

        try bench.harness.advance(by: firstDue - 1 - t0)
        #expect(try bench.status(first)["status"] == "expiring")
        #expect(try endpoint.requests().isEmpty, "nothing before the first token's time")
        try bench.harness.advance(by: 1)
        try bench.waitForStatus(first) { $0["history"]["successes"] == 1 }
        #expect(try bench.status(second)["history"]["attempts"] == 0, "the second waits for its own time")
        try bench.harness.advance(by: secondDue - firstDue)
        try bench.waitForStatus(second) { $0["history"]["successes"] == 1 }
        #expect(try endpoint.requests().count == 2)
    }

    /// `token.access` within `skewMs` of expiry waits for the refresh; two callers and a
    /// `token.refresh` join one flight: one request.
    @Test func accessNearExpiryWaitsForOneSharedRefresh() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-s-a")
        try endpoint.control(["delayMs": 300])
        let bench = try B(config: ["refreshAheadMs": 60_000, "skewMs": 60_000],
                          files: ["qwen-oauth-1-a.json": snakeToken(access: "at-s-old-secret", refresh: "rt-s-a",
                                                                    expiresAtSeconds: (t0 + 30 * B.second) / 1000, endpoint: endpoint.url)])
        let ids = (0..<3).map { _ in JSON.int(Int64(bench.host.takeID())) }
        try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": ids[0], "method": "token.access", "params": ["id": "qwen-oauth-1-a"]]).text)
        try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": ids[1], "method": "token.access", "params": ["id": "qwen-oauth-1-a"]]).text)
        try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": ids[2], "method": "token.refresh", "params": ["id": "qwen-oauth-1-a"]]).text)
        let answers = try ids.map { try bench.host.response(id: $0, timeout: 30) }
        let fresh = answers[0]["result"]["accessToken"]
        #expect(fresh.string?.hasPrefix("at-1-") == true, "\(answers[0])")
        #expect(answers[1]["result"]["accessToken"] == fresh)
        #expect(answers[2]["result"]["status"] == "valid", "\(answers[2])")
        #expect(try endpoint.requests().count == 1, "one flight for every caller")
    }

    @Test func anExpiredTokenThatCannotBeRefreshedIsRefused() throws {
        let file: JSON = ["access_token": "at-s-expired-secret", "expires_at": .int((t0 - B.minute) / 1000)]
        let bench = try B(files: ["qwen-oauth-3-c.json": file])
        let status = try bench.status("qwen-oauth-3-c")
        #expect(status["status"] == "expired" && status["refreshable"] == false, "\(status)")
        #expect(status["reason"].string?.contains("refresh_token") == true, "\(status)")
        let error = try bench.host.expectFailure("token.access", ["id": "qwen-oauth-3-c"])
        #expect(error["code"] == -32000 && error["data"]["reason"] == "expired", "\(error)")
    }

    /// `token.refreshDue` refreshes only the tokens whose `nextRefreshAt` has come.
    @Test func refreshDueTakesOnlyTheTokensWhoseTimeHasCome() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-s-a")
        try endpoint.accept("rt-s-b")
        let files: [String: JSON] = [
            "qwen-oauth-1-a.json": snakeToken(access: "at-s-secret-a", refresh: "rt-s-a", expiresAtSeconds: (t0 + 10 * B.minute) / 1000, endpoint: endpoint.url),
            "qwen-oauth-2-b.json": snakeToken(access: "at-s-secret-b", refresh: "rt-s-b", expiresAtSeconds: (t0 + 5 * B.hour) / 1000, endpoint: endpoint.url),
            "static.json": ["api_key": "sk-static-secret-0001"],
        ]
        // The manual clock does not move: the background's wake-up waits for it, refreshDue acts.
        let bench = try B(config: ["refreshAheadMs": .int(20 * B.minute)], files: files)
        let answer = try bench.host.call("token.refreshDue", timeout: 30)
        #expect(answer == ["refreshed": ["qwen-oauth-1-a"], "failed": []], "\(answer)")
        #expect(try endpoint.requests().count == 1)
        #expect(try bench.status("static")["status"] == "static")
        #expect(try bench.host.call("token.access", ["id": "static"])["accessToken"] == "sk-static-secret-0001")
    }
}
