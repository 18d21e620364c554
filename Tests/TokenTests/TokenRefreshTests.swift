import Foundation
import ModHostTestKit
import Testing

/// Refreshes through the real host and libToken.so against a real token endpoint on loopback
/// (oauthlib), as RFC 6749 §6 asks, and what lands on disk.
@Suite struct TokenRefreshTests {
    private typealias B = TokenBench
    private let t0 = TokenBench.start

    @Test func aRefreshWithARotatedTokenIsSentAsTheRFCSaysAndWrittenInTheFilesOwnStyle() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-initial-0001")
        let file = snakeToken(access: "at-initial-secret-0001", refresh: "rt-initial-0001", expiresAtSeconds: (t0 + 10 * B.minute) / 1000,
                              endpoint: endpoint.url, extra: ["email": "ann@example.com", "last_refresh": "yesterday"])
        let bench = try B(files: ["qwen-oauth-1-default.json": file])
        try bench.host.call("events.subscribe", ["topics": ["token.*"]])
        #expect(try bench.status("qwen-oauth-1-default")["status"] == "expiring")

        let after = try bench.refresh("qwen-oauth-1-default")
        #expect(after["status"] == "valid", "\(after)")
        #expect(after["expiresAt"] == .int(t0 + B.hour), "\(after)")
        #expect(after["history"]["successes"] == 1 && after["history"]["attempts"] == 1, "\(after)")

        let requests = try endpoint.requests()
        #expect(requests.count == 1)
        let request = requests[0]
        #expect(request["form"] == ["grant_type": "refresh_token", "refresh_token": "rt-initial-0001"], "\(request)")
        #expect(request["authorization"] == .string("Basic " + Data("client-a:secret-a".utf8).base64EncodedString()))
        #expect(request["contentType"] == "application/x-www-form-urlencoded")
        #expect(request["accept"] == "application/json")

        let written = try bench.readFile("qwen-oauth-1-default.json")
        let access = written["access_token"].string ?? ""
        let rotated = written["refresh_token"].string ?? ""
        #expect(access.hasPrefix("at-1-") && rotated.hasPrefix("rt-1-"), "\(written)")
        #expect(try endpoint.validRefreshTokens() == [rotated])
        #expect(written["expires_at"] == .int((t0 + B.hour) / 1000), "the expiry keeps its field and unit (seconds): \(written)")
        #expect(written["accessToken"] == .null && written["expiresAt"] == .null, "no camelCase key added: \(written)")
        #expect(written["email"] == "ann@example.com" && written["last_refresh"] == "yesterday", "unknown keys kept: \(written)")
        #expect(bench.fileMode("qwen-oauth-1-default.json") == 0o600)

        let event = try bench.host.nextEvent(topic: "token.refreshed")
        #expect(event["data"]["id"] == "qwen-oauth-1-default" && event["data"]["provider"] == "qwen", "\(event)")
        #expect(event["data"]["providerKeys"] == ["qwen.default", "qwen.1"], "\(event)")
        #expect(event["data"]["expiresAt"] == .int(t0 + B.hour), "\(event)")

        let answer = try bench.host.call("token.access", ["id": "qwen-oauth-1-default"])
        #expect(answer == ["accessToken": .string(access), "tokenType": "Bearer", "expiresAt": .int(t0 + B.hour)])
        bench.expectNoLeak(of: ["at-initial-secret-0001", "rt-initial-0001", access, rotated, "secret-a"])
        let listed = try bench.host.call("token.list").text + (try bench.status("qwen-oauth-1-default")).text
        for secret in [access, rotated, "secret-a", "rt-initial-0001"] { #expect(!listed.contains(secret)) }
    }

    @Test func withoutARotatedTokenOrExpiresInTheOldRefreshTokenStaysAndTheExpiryIsUnknown() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-public-0002", client: "public-b")
        try endpoint.control(["rotate": false, "expiresIn": .null])
        let file: JSON = ["accessToken": "at-camel-0002-secret", "refreshToken": "rt-public-0002", "expiresAt": .int(t0 + 5 * B.minute),
                          "tokenEndpoint": .string(endpoint.url), "clientId": "public-b", "provider": "gemini", "alias": "work"]
        let bench = try B(files: ["g.json": file])
        let after = try bench.refresh("g")
        #expect(after["status"] == "static", "no expiry known: valid, never refreshed: \(after)")
        #expect(after["expiresAt"] == .null, "\(after)")
        #expect(after["providerKeys"] == ["gemini.work"], "\(after)")

        let request = try #require(try endpoint.requests().first)
        #expect(request["authorization"] == .null, "a public client sends no Basic header")
        #expect(request["form"] == ["grant_type": "refresh_token", "refresh_token": "rt-public-0002", "client_id": "public-b"], "\(request)")
        let written = try bench.readFile("g.json")
        #expect(written["refreshToken"] == "rt-public-0002", "the old refresh token is kept: \(written)")
        #expect(written["accessToken"].string?.hasPrefix("at-1-") == true && written["access_token"] == .null, "\(written)")
        #expect(written["expiresAt"] == .null, "\(written)")
    }
}
