import Foundation
import ModHostTestKit
import Testing

/// Idle end, the cap, `recordInput`, triggers with their cooldown, eviction and cleanup: all on
/// the manual clock.
@Suite struct SessionLifecycleTests {
    @Test func anHourWithoutIOEndsASession() throws {
        let bench = try SessionBench()
        try bench.register("idle")
        try bench.register("busy")
        try bench.harness.advance(by: 59 * 60_000)
        try bench.write("busy", "still here")
        try bench.harness.advance(by: 60_000)
        #expect(try bench.host.call("session.get", ["sessionId": "idle"])["endedAt"] == "2026-01-01T01:00:00+00:00")
        #expect(try bench.host.call("session.get", ["sessionId": "busy"])["endedAt"] == .null)
        let meta = try SessionBench.json("\(try bench.directory("idle"))/meta.json") as? [String: Any]
        #expect(meta?["ended_at"] as? String == "2026-01-01T01:00:00+00:00")
    }

    @Test func theCapWritesOneMarkerAndRecordsNothingMore() throws {
        let bench = try SessionBench(config: ["maxStreamBytes": 1_024])
        try bench.register("s")
        var capped = JSON.null
        for i in 0..<20 { capped = try bench.write("s", String(repeating: "x", count: 90), at: Int64(i)) }
        #expect(capped["capped"] == true, "\(capped)")
        try bench.harness.advance(by: 1_000)
        let entries = try SessionBench.omnishEntries("\(try bench.directory("s"))/stream.bin")
        let marker = String(decoding: entries.last?.data ?? [], as: UTF8.self)
        #expect(marker.contains("stream cap of 1024 bytes reached"), "\(marker)")
        #expect(entries.reduce(0) { $0 + 13 + $1.data.count } <= 1_024)
        #expect(try bench.write("s", "more")["recorded"] == 0)
    }

    @Test func recordInputFalseKeepsOnlyOutput() throws {
        let bench = try SessionBench(config: ["recordInput": false])
        try bench.register("s")
        try bench.write("s", "secret-password\r", direction: 0)
        try bench.write("s", "ok\r\n", direction: 1)
        try bench.harness.advance(by: 1_000)
        let entries = try SessionBench.omnishEntries("\(try bench.directory("s"))/stream.bin")
        #expect(entries.map(\.dir) == [1] && entries.map { String(decoding: $0.data, as: UTF8.self) } == ["ok\r\n"])
    }

    @Test func triggersFireOnAPatternSplitAcrossWritesAndANonZeroExitWithACooldown() throws {
        let bench = try SessionBench(config: ["autoTrigger": ["onNonZeroExit": true, "outputPatterns": ["Traceback"], "cooldownSeconds": 10]])
        try bench.host.call("events.subscribe", ["topics": ["session.trigger"]])
        try bench.register("s")
        try bench.write("s", "oops\r\ntrace")
        try bench.write("s", "BACK (most recent call last)")
        let pattern = try bench.host.nextEvent(topic: "session.trigger")["data"]
        #expect(pattern == ["sessionId": "s", "kind": "pattern", "pattern": "Traceback"], "\(pattern)")
        try bench.complete("s", "c1", "python x.py", exitCode: 1)  // inside the cooldown: no event
        try bench.harness.advance(by: 10_000)
        try bench.complete("s", "c2", "false", exitCode: 2)
        let exit = try bench.host.nextEvent(topic: "session.trigger")["data"]
        #expect(exit == ["sessionId": "s", "kind": "nonzero_exit", "exitCode": 2, "commandId": "c2"], "\(exit)")
    }

    @Test func evictedSessionsReloadOnUseAndCleanupDeletesOnlyOldOnesNotInMemory() throws {
        let bench = try SessionBench()
        try bench.register("old")
        try bench.write("old", "kept on disk")
        try bench.host.call("session.end", ["sessionId": "old"])
        try bench.harness.advance(by: 47 * 3_600_000)
        try bench.register("new")
        #expect(try bench.host.call("session.evictInactive", ["hours": 48])["evicted"] == [])
        try bench.harness.advance(by: 3_600_000)
        #expect(try bench.host.call("session.evictInactive", [:])["evicted"] == ["old"])
        #expect(try bench.host.call("session.list")["sessions"].array?.map { $0["sessionId"] } == ["new"])
        let reloaded = try bench.host.call("session.get", ["sessionId": "old"])
        #expect(reloaded["streamBytes"] == .int(13 + 12), "\(reloaded)")
        let oldDir = try bench.directory("old")
        try bench.host.call("session.evictInactive", ["hours": 1])
        #expect(try bench.host.call("session.cleanup", ["olderThanHours": 49])["removed"] == [])
        #expect(try bench.host.call("session.cleanup", [:])["removed"] == ["old"])
        #expect(!FileManager.default.fileExists(atPath: oldDir))
        #expect(try bench.host.call("session.get", ["sessionId": "new"])["sessionId"] == "new")
    }
}
