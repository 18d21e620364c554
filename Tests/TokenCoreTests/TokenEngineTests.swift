import Foundation
import ModuleSupport
import Testing
@testable import TokenCore

/// The rules alone: a flight's steps fed by hand, as the plugin's I/O would.
@Suite struct TokenEngineTests {
    let t0: Int64 = 1_767_225_600_000
    let url = "https://auth.example/token"

    private func engine(_ files: [String: String]) -> TokenEngine {
        var engine = TokenEngine()
        var effects = TokenEffects()
        engine.scanned(files.map { FileSnapshot(fileName: $0.key, content: .bytes(Array($0.value.utf8))) }, at: t0, effects: &effects)
        return engine
    }

    private func file(expiresInMs: Int64, refresh: String = "r0") -> String {
        #"{"access_token":"a0","refresh_token":"\#(refresh)","expires_at":\#((t0 + expiresInMs) / 1000),"token_endpoint":"\#(url)"}"#
    }

    private func ok(_ access: String) -> HTTPResult {
        .response(status: 200, headers: [:], body: Array(#"{"access_token":"\#(access)","token_type":"Bearer","expires_in":3600}"#.utf8))
    }

    @Test func statuses() throws {
        let engine = engine(["v.json": file(expiresInMs: 3_600_000), "e.json": file(expiresInMs: 600_000), "x.json": file(expiresInMs: -1),
                             "s.json": #"{"api_key":"k"}"#, "i.json": #"{"refresh_token":"r"}"#, "n.json": #"{"access_token":"a"}"#])
        let statuses = Dictionary(uniqueKeysWithValues: engine.list(at: t0).tokens.map { ($0.id, $0.status) })
        #expect(statuses == ["v": "valid", "e": "expiring", "x": "expired", "s": "static", "i": "invalid", "n": "static"])
    }

    /// Callers join one flight; the lock, the request, the write and the answers come in order.
    @Test func oneFlightForEveryCaller() throws {
        var engine = engine(["a.json": file(expiresInMs: 30_000)])
        var effects = TokenEffects()
        try engine.access("a", call: PendingCallID(1), at: t0, effects: &effects)
        try engine.access("a", call: PendingCallID(2), at: t0, effects: &effects)
        try engine.refresh("a", call: PendingCallID(3), at: t0, effects: &effects)
        #expect(effects.requests == [.lock(id: "a", attempt: 1)])
        effects = TokenEffects()
        engine.lockTaken("a", attempt: 1, file: FileSnapshot(fileName: "a.json", content: .bytes(Array(file(expiresInMs: 30_000).utf8))), at: t0, effects: &effects)
        guard case .send(_, 1, let request) = effects.requests.first else { Issue.record("\(effects.requests)"); return }
        #expect(request.url == url)
        effects = TokenEffects()
        engine.httpCompleted("a", attempt: 1, result: ok("a1"), durationMs: 12, at: t0, effects: &effects)
        guard case .write("a", 1, _) = effects.requests.first else { Issue.record("\(effects.requests)"); return }
        #expect(!effects.list.effects.contains { if case .reply = $0 { true } else { false } }, "no answer before the file is on disk")
        effects = TokenEffects()
        engine.written("a", attempt: 1, error: nil, at: t0, effects: &effects)
        let replies = effects.list.effects.compactMap { effect -> UInt64? in if case .reply(let id, _) = effect { id.rawValue } else { nil } }
        #expect(replies == [1, 2, 3])
        #expect(effects.requests == [.unlock(id: "a")])
        #expect(try engine.status("a", at: t0).history.lastDurationMs == 12)
    }

    /// Another process refreshed while this one waited for the lock: adopted, no request.
    @Test func aFreshFileUnderTheLockIsAdopted() throws {
        var engine = engine(["a.json": file(expiresInMs: 30_000)])
        var effects = TokenEffects()
        try engine.refresh("a", call: PendingCallID(1), at: t0, effects: &effects)
        effects = TokenEffects()
        let fresh = #"{"access_token":"a9","refresh_token":"r9","expires_at":\#((t0 + 3_600_000) / 1000),"token_endpoint":"\#(url)"}"#
        engine.lockTaken("a", attempt: 1, file: FileSnapshot(fileName: "a.json", content: .bytes(Array(fresh.utf8))), at: t0, effects: &effects)
        #expect(effects.requests == [.unlock(id: "a")])
        #expect(try engine.status("a", at: t0).history.lastResult == "adopted")
    }

    /// Three automatic transient failures in a row suspend; a changed file resumes.
    @Test func threeAutomaticFailuresSuspendAndARewrittenFileResumes() throws {
        var engine = engine(["a.json": file(expiresInMs: 600_000)])
        var now = t0
        for attempt in 1...3 {
            var effects = TokenEffects()
            for _ in 0..<5 where !effects.requests.contains(.lock(id: "a", attempt: UInt64(attempt))) {  // a poll's scan may come first
                now = max(now, try #require(engine.nextWakeMs))
                engine.wake(at: now, effects: &effects)
            }
            #expect(effects.requests.contains(.lock(id: "a", attempt: UInt64(attempt))), "\(effects.requests)")
            engine.lockFailed("a", attempt: UInt64(attempt), detail: "busy", at: now, effects: &effects)
        }
        let status = try engine.status("a", at: now)
        #expect(status.status == "suspended" && status.history.failureStreak == 3 && status.history.lastError == "lock_timeout")
        var effects = TokenEffects()
        engine.scanned([FileSnapshot(fileName: "a.json", content: .bytes(Array(file(expiresInMs: 7_200_000, refresh: "r1").utf8)))], at: now, effects: &effects)
        #expect(try engine.status("a", at: now).status == "valid")
        let topics = effects.list.effects.compactMap { effect -> String? in if case .publish(let topic, _) = effect { topic } else { nil } }
        #expect(topics == ["token.resumed", "token.refreshed"])
    }
}
