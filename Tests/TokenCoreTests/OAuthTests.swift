import Foundation
import ModHostJSON
import Testing
@testable import TokenCore

/// RFC 6749's own examples: the §6 refresh request, the §5.1 success and §5.2 error bodies,
/// the §2.3.1 client authentication, Appendix B's form encoding.
@Suite struct OAuthTests {
    /// §6: "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA" with
    /// "Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW" (client s6BhdRkqt3, secret gX1fBat3bV).
    @Test func theRefreshRequestOfSection6() {
        let request = OAuthRequest.refresh(endpoint: "https://server.example.com/token", refreshToken: "tGzv3JOkF0XG5Qx2TlKWIA",
                                           clientId: "s6BhdRkqt3", clientSecret: "gX1fBat3bV", scope: nil)
        #expect(String(decoding: request.body, as: UTF8.self) == "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA")
        #expect(request.headers.contains { $0 == ("Authorization", "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW") })
        #expect(request.headers.contains { $0 == ("Content-Type", "application/x-www-form-urlencoded") })
        #expect(request.headers.contains { $0 == ("Accept", "application/json") })
    }

    @Test func aPublicClientSendsItsIdInTheBodyAndTheScopeOnlyWhenGiven() {
        let request = OAuthRequest.refresh(endpoint: "https://a/t", refreshToken: "r t/+", clientId: "app", clientSecret: nil, scope: "read write")
        #expect(String(decoding: request.body, as: UTF8.self) == "grant_type=refresh_token&refresh_token=r+t%2F%2B&scope=read+write&client_id=app")
        #expect(!request.headers.contains { $0.0 == "Authorization" })
    }

    /// Appendix B: " %&+£€" is "+%25%26%2B%C2%A3%E2%82%AC"; §2.3.1 encodes id and secret so first.
    @Test func appendixBFormEncoding() {
        #expect(OAuthRequest.formEncode(" %&+£€") == "+%25%26%2B%C2%A3%E2%82%AC")
        let request = OAuthRequest.refresh(endpoint: "https://a/t", refreshToken: "x", clientId: "a:b", clientSecret: "p w", scope: nil)
        let header = request.headers.first { $0.0 == "Authorization" }?.1 ?? ""
        #expect(header == "Basic " + Data("a%3Ab:p+w".utf8).base64EncodedString())
    }

    /// §5.1's example response.
    @Test func theSuccessBodyOfSection5_1() {
        let body = #"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"example","expires_in":3600,"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","example_parameter":"example_value"}"#
        let outcome = OAuthResponse.outcome(of: .response(status: 200, headers: ["content-type": "application/json;charset=UTF-8"], body: Array(body.utf8)), nowMs: 0)
        #expect(outcome == .success(accessToken: "2YotnFZFEjr1zCsicMWpAA", refreshToken: "tGzv3JOkF0XG5Qx2TlKWIA", expiresInMs: 3_600_000,
                                    tokenType: "example", scope: nil))
    }

    /// §5.2's example response, and the codes that suspend.
    @Test func theErrorBodyOfSection5_2() {
        let outcome = OAuthResponse.outcome(of: .response(status: 400, headers: [:], body: Array(#"{"error":"invalid_request"}"#.utf8)), nowMs: 0)
        #expect(outcome == .oauthError(error: "invalid_request", description: nil, status: 400))
        let client = OAuthResponse.outcome(of: .response(status: 401, headers: [:], body: Array(#"{"error":"invalid_client","error_description":"bad"}"#.utf8)), nowMs: 0)
        #expect(client == .oauthError(error: "invalid_client", description: "bad", status: 401))
    }

    @Test func transientFailuresAndRetryAfter() {
        let limited = OAuthResponse.outcome(of: .response(status: 429, headers: ["retry-after": "120"], body: []), nowMs: 0)
        #expect(limited == .transient(reason: "rate_limited", retryAfterMs: 120_000, detail: "the token endpoint answered HTTP 429"))
        let dated = OAuthResponse.outcome(of: .response(status: 503, headers: ["retry-after": "Thu, 01 Jan 1970 00:01:00 GMT"], body: []), nowMs: 30_000)
        #expect(dated == .transient(reason: "http_503", retryAfterMs: 30_000, detail: "the token endpoint answered HTTP 503"))
        let html = OAuthResponse.outcome(of: .response(status: 200, headers: [:], body: Array("<html>".utf8)), nowMs: 0)
        guard case .transient("invalid_response", nil, _) = html else { Issue.record("\(html)"); return }
        let malformed = OAuthResponse.outcome(of: .response(status: 400, headers: [:], body: Array(#"{"error":"a\"b"}"#.utf8)), nowMs: 0)
        guard case .transient("invalid_response", nil, _) = malformed else { Issue.record("\(malformed)"); return }
    }

    @Test func backoffStepsAndRetryAfter() {
        #expect((1...5).map { Backoff.delayMs(streak: $0, retryAfterMs: nil) } == [30_000, 60_000, 120_000, 300_000, 300_000])
        #expect(Backoff.delayMs(streak: 1, retryAfterMs: 5_000) == 30_000)
        #expect(Backoff.delayMs(streak: 2, retryAfterMs: 200_000) == 200_000)
        #expect(Backoff.delayMs(streak: 1, retryAfterMs: 86_400_000) == 3_600_000)
    }

    @Test func endpointsHttpOnlyToLoopback() {
        #expect(EndpointCheck.problem("https://oauth2.googleapis.com/token") == nil)
        #expect(EndpointCheck.problem("http://127.0.0.1:8080/token") == nil)
        #expect(EndpointCheck.problem("http://[::1]:8080/token") == nil)
        #expect(EndpointCheck.problem("http://localhost/token") == nil)
        #expect(EndpointCheck.problem("http://example.com/token")?.contains("not loopback") == true)
        #expect(EndpointCheck.problem("http://127.0.0.1.example.com/token") != nil)
        #expect(EndpointCheck.problem("ftp://127.0.0.1/token") != nil)
        #expect(EndpointCheck.problem("https://user:pw@a.example/token") != nil)
    }

    @Test func theJitterIsFNV1aOfTheIdWithinTenPercentAndThreeMinutes() {
        #expect(Jitter.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(Jitter.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)  // the FNV-1a 64 test vector
        #expect(Jitter.maxMs(windowMs: 1_800_000) == 180_000)
        #expect(Jitter.maxMs(windowMs: 600_000) == 60_000)
        let spread = Set((0..<1000).map { Jitter.ms(for: "qwen-oauth-\($0)-a", windowMs: 1_800_000) })
        #expect(spread.count > 900 && spread.allSatisfy { (0...180_000).contains($0) })
    }
}
