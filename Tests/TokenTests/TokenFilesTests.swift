import Foundation
import ModHostTestKit
import Testing

/// Token files as the upstream daemon and other tools write them: both spellings, the
/// `<provider>-oauth-<seq>-<alias>.json` naming, every expiry form, modes, and files that
/// appear, change and go while the host runs.
@Suite struct TokenFilesTests {
    private typealias B = TokenBench
    private let t0 = TokenBench.start

    @Test func bothSpellingsEveryExpiryFormAndTheNamingAreRead() throws {
        let files: [String: JSON] = [
            "qwen-oauth-1-default.json": ["access_token": "at-files-secret-1", "refresh_token": "rt-1", "expiry_date": .int(t0 + 2 * B.hour)],
            "iflow-oauth-2-work.json": ["accessToken": "at-files-secret-2", "expiresAt": .int((t0 + 20 * B.minute) / 1000)],
            "claude-oauth-3-x.json": ["access_token": "at-files-secret-3", "expired": "2025-12-31T23:00:00Z"],
            "plain.json": ["accessToken": "at-files-secret-4", "provider": "openai", "alias": "main", "seq": 7,
                           "providerKeys": ["openai.main", "openai.key7"], "expiry": "2026-01-01T05:00:00+01:00"],
            "key.json": ["apiKey": "sk-files-secret-5"],
            "empty.json": ["note": "nothing"],
            ".hidden.json": ["access_token": "x"], "old.bak.json": ["access_token": "x"], "w.tmp.json": ["access_token": "x"],
        ]
        let bench = try B(files: files)
        try B.write(["access_token": "at-files-secret-6"], to: "\(bench.authDir)/open-oauth-4-y.json", mode: 0o644)
        try bench.waitForList { $0["open-oauth-4-y"] != nil }
        let tokens = try bench.list()
        #expect(Set(tokens.keys) == ["qwen-oauth-1-default", "iflow-oauth-2-work", "claude-oauth-3-x", "plain", "key", "empty", "open-oauth-4-y"])
        let qwen = try #require(tokens["qwen-oauth-1-default"])
        #expect(qwen["status"] == "valid" && qwen["expiresAt"] == .int(t0 + 2 * B.hour) && qwen["msLeft"] == .int(2 * B.hour), "\(qwen)")
        #expect(qwen["provider"] == "qwen" && qwen["seq"] == 1 && qwen["alias"] == "default", "\(qwen)")
        #expect(qwen["providerKeys"] == ["qwen.default", "qwen.1"])
        #expect(tokens["iflow-oauth-2-work"]?["status"] == "expiring", "epoch seconds: \(tokens["iflow-oauth-2-work"]!)")
        #expect(tokens["iflow-oauth-2-work"]?["expiresAt"] == .int(t0 + 20 * B.minute))
        #expect(tokens["claude-oauth-3-x"]?["status"] == "expired" && tokens["claude-oauth-3-x"]?["expiresAt"] == .int(t0 - B.hour))
        let plain = try #require(tokens["plain"])
        #expect(plain["expiresAt"] == .int(t0 + 4 * B.hour) && plain["providerKeys"] == ["openai.main", "openai.key7"], "\(plain)")
        #expect(plain["provider"] == "openai" && plain["seq"] == 7, "\(plain)")
        #expect(tokens["key"]?["status"] == "static")
        #expect(tokens["empty"]?["status"] == "invalid" && tokens["empty"]?["reason"].string?.contains("access_token") == true)
        let open = try #require(tokens["open-oauth-4-y"])
        #expect(open["status"] == "invalid", "\(open)")
        #expect(open["reason"] == .string("\(bench.authDir)/open-oauth-4-y.json is readable by group or others (mode 0644): chmod 600 \(bench.authDir)/open-oauth-4-y.json"))
        let text = try bench.host.call("token.list").text
        for secret in ["at-files-secret-1", "at-files-secret-2", "at-files-secret-4", "sk-files-secret-5", "at-files-secret-6"] {
            #expect(!text.contains(secret))
        }
        bench.expectNoLeak(of: ["at-files-secret-1", "at-files-secret-6", "sk-files-secret-5"])
    }

    @Test func filesThatAppearChangeAndGoArePickedUpWhileRunning() throws {
        let bench = try B()
        #expect(try bench.list().isEmpty)
        try bench.write("qwen-oauth-1-a.json", ["access_token": "at-w-1", "expires_at": .int((t0 + B.hour) / 1000)])
        try bench.waitForList { $0["qwen-oauth-1-a"]?["status"] == "valid" }
        try bench.write("qwen-oauth-1-a.json", ["access_token": "at-w-2", "expires_at": .int((t0 - B.hour) / 1000)])
        try bench.waitForList { $0["qwen-oauth-1-a"]?["status"] == "expired" }
        chmod("\(bench.authDir)/qwen-oauth-1-a.json", 0o640)
        try bench.waitForList { $0["qwen-oauth-1-a"]?["status"] == "invalid" }
        unlink("\(bench.authDir)/qwen-oauth-1-a.json")
        try bench.waitForList { $0.isEmpty }
    }

    /// Without any config and with no auth directory the module starts, says so once, and
    /// lists nothing; the host loads it with every other module from its default directory.
    @Test func theDefaultDirectoryStartsCleanWithNoAuthDirectory() throws {
        let host = try HostProcess(plugins: nil)
        #expect(try host.call("token.list") == ["tokens": []])
        let log = try host.waitForStderr(containing: "auth directory")
        #expect(log.components(separatedBy: "is absent: no tokens until it is created").count == 2, "one info line")
        #expect(try host.moduleStates()["token"] == "running")
        #expect(try host.shutdown() == 0)
    }
}
