import ModHostTestKit
import Testing

/// The health module at the end of the host clock's range, through the real binary: every
/// rule caps its deadline at 9999-12-31T23:59:59.999Z, and the host keeps serving.
@Suite struct HealthClockEdgeTests {
    static let end: Int64 = 253_402_300_799_999

    @Test func deadlinesNearTheEndOfTimeAreCappedThere() throws {
        let bench = try HealthBench(clockStart: Self.end - 1000)
        let reports: [(String, JSON)] = [
            ("hinted", ["status": 429, "retryAfter": 3600]),
            ("chain", ["status": 429]),
            ("body", ["status": 429, "body": "reset after 3h22m41s"]),
            ("quota", ["errorClass": "quota"]),
            ("quota-hinted", ["errorClass": "quota", "retryAfter": 7200]),
        ]
        for (key, fields) in reports {
            let result = try bench.report(key, fields)
            #expect(result["state"] == "cooldown" || result["state"] == "blacklisted", "\(key): \(result)")
            #expect(result["untilMs"] == .int(Self.end), "\(key): \(result)")
        }
        let opened = try bench.report("srv", status: 500, times: 3)
        #expect(opened["state"] == "open" && opened["untilMs"] == .int(Self.end), "\(opened)")
        // The last millisecond of time comes: everything is over, the host still answers.
        try bench.at(Self.end)
        #expect(try bench.snapshotKeys() == [])
        #expect(try bench.host.call("host.status")["nowMs"] == .int(Self.end))
        #expect(try bench.host.shutdown() == 0)
    }
}
