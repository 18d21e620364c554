import Foundation
import ModHostTestKit
import Testing

/// What reaches the host's log (stderr) from outside input, through the real binary: at most
/// 40 characters of any of it, escaped, and never a response body or a hint's text from one.
@Suite struct HealthLogTests {
    /// A secret-looking provider key, 72 characters.
    static let secret = "sk-live-" + String(repeating: "Q7xk2Lm9Pz4w", count: 5) + "ZrT4"
    static let bodyText = "The quick brown fox exceeded its quota"

    /// Every stretch of more than 40 characters of `secret` that appears in `text`.
    private func leaks(of secret: String, in text: String) -> [String] {
        let characters = Array(secret)
        return (0...(characters.count - 41)).map { String(characters[$0..<($0 + 41)]) }.filter { text.contains($0) }
    }

    @Test func aSecretInKeysHintsAndBodiesNeverReachesTheLogBeyondFortyCharacters() throws {
        let bench = try HealthBench()
        let secret = Self.secret
        let body = #"{"error":{"message":"\#(Self.bodyText) for \#(secret)","retryDelay":"\#(secret)","resetAt":"\#(secret)"}}"#
            + " reset after \(secret)"
        // A 429 whose key, Retry-After and body all carry the secret; every hint in it is unreadable.
        let result = try bench.report(secret, ["status": 429, "retryAfter": .string(secret), "body": .string(body)])
        #expect(result["state"] == "cooldown", "\(result)")
        // The same through the event, with a bad errorClass (logged: events have no caller to answer).
        try bench.host.call("events.publish", ["topic": "provider.error",
                                               "data": ["providerKey": .string(secret), "errorClass": .string(secret)]])
        // And a client's path, logged by the host when the load fails.
        let load = try bench.host.expectFailure("modules.load", ["path": .string("/nonexistent/\(secret)/libx.so")])
        #expect(load["code"] == -32003)

        let stderr = try bench.host.waitForStderr(containing: "ignoring provider.error event")
        try bench.host.waitForStderr(containing: "load failed")
        #expect(stderr.contains("ignoring a retryDelay hint in the body: not a duration or a time"), "\(stderr)")
        #expect(stderr.contains("ignoring retryAfter \"sk-live-"), "\(stderr)")
        #expect(leaks(of: secret, in: bench.host.stderrText).isEmpty, "\(bench.host.stderrText)")
        #expect(!bench.host.stderrText.contains(Self.bodyText), "the body reached the log: \(bench.host.stderrText)")
        #expect(!bench.host.stderrText.contains("reset after"), "\(bench.host.stderrText)")
        #expect(try bench.host.shutdown() == 0)
    }

    /// A key with a newline and a terminal escape cannot forge a log line or colour the terminal.
    @Test func controlCharactersInAKeyAreEscaped() throws {
        let bench = try HealthBench()
        let key = "k1\n2026-01-01T00:00:00+0000 critical modhost: forged\u{1B}[31m"
        try bench.report(key, ["status": 429, "body": #"{"retryDelay":"soon"}"#])
        let stderr = try bench.host.waitForStderr(containing: "ignoring a retryDelay hint")
        #expect(!stderr.contains("\ncritical") && !stderr.contains("\n2026-01-01T00:00:00+0000 critical"), "\(stderr)")
        #expect(!stderr.contains("\u{1B}"), "\(stderr)")
        #expect(stderr.contains(#""k1\n2026-01-01T00:00:00+0000 critical mod…" (57 characters)"#), "\(stderr)")
        #expect(try bench.host.shutdown() == 0)
    }
}
