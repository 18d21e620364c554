import ModHostTestKit
import Testing

/// The circuit breaker for 5xx and network errors, through the real host and libHealth.so:
/// 3 consecutive errors open it for 30 s × trips (at most 300 s), then halfOpen admits one probe,
/// whose success closes it and whose failure re-opens it for longer.
@Suite struct HealthCircuitTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    /// sony/gobreaker's TestDefaultCircuitBreaker, step by step, with this module's settings
    /// (threshold 3 consecutive instead of more than 5, open 30 s × trips instead of 60 s):
    /// failures below the threshold stay closed, a success clears them, the threshold opens,
    /// requests are refused while open (still at timeout - 1 ms), the timeout moves to halfOpen,
    /// a failed probe re-opens (now for 60 s), and a successful probe closes.
    @Test func transitionsFollowGobreakersDefaultCircuitBreaker() throws {
        let bench = try HealthBench()
        let key = "openai.k1"

        // Closed: failures below the threshold.
        for count in 1...2 {
            #expect(try bench.report(key, ["status": 500])["state"] == "healthy", "after \(count) failures")
        }
        #expect(try bench.status(key)["consecutiveErrors"]["server"] == 2)

        // A success clears the consecutive count.
        #expect(try bench.reportSuccess(key)["state"] == "healthy")
        let cleared = try bench.status(key)
        #expect((cleared["consecutiveErrors"]["server"].int ?? 0) == 0, "\(cleared)")
        #expect(try bench.report(key, ["status": 500])["state"] == "healthy")
        #expect(try bench.report(key, ["status": 502])["state"] == "healthy", "2 consecutive since the success")

        // Closed to open: the third consecutive failure.
        let opened = try bench.report(key, ["status": 503])
        #expect(opened["state"] == "open", "\(opened)")
        #expect(opened["untilMs"] == .int(t0 + 30 * B.second), "\(opened)")
        #expect(try bench.status(key)["trips"] == 1)

        // Refused while open, up to 1 ms before the timeout.
        let refused = try bench.available([key])
        #expect(refused["available"] == [], "\(refused)")
        #expect(refused["unavailable"].array?.count == 1, "\(refused)")
        #expect(refused["unavailable"][0]["providerKey"] == .string(key), "\(refused)")
        #expect(refused["unavailable"][0]["state"] == "open", "\(refused)")
        #expect(refused["unavailable"][0]["untilMs"] == .int(t0 + 30 * B.second), "\(refused)")
        #expect(refused["earliestRecoveryMs"] == .int(t0 + 30 * B.second), "\(refused)")
        try bench.at(t0 + 30 * B.second - 1)
        try bench.expect(key, "open", until: t0 + 30 * B.second)

        // Open to halfOpen at the timeout: one probe is admitted, the next caller is refused.
        var now = try bench.at(t0 + 30 * B.second)
        try expectProbeAdmittedOnce(bench, key)

        // HalfOpen to open: the probe failed; open again, for 30 s × 2 trips.
        let reopened = try bench.report(key, ["status": 500])
        #expect(reopened["state"] == "open", "\(reopened)")
        #expect(reopened["untilMs"] == .int(now + 60 * B.second), "\(reopened)")
        #expect(try bench.status(key)["trips"] == 2)
        try bench.at(now + 60 * B.second - 1)
        try bench.expect(key, "open", until: now + 60 * B.second)

        // Open to halfOpen again; halfOpen to closed: the probe succeeded.
        now = try bench.at(now + 60 * B.second)
        try expectProbeAdmittedOnce(bench, key)
        #expect(try bench.reportSuccess(key)["state"] == "healthy")
        let closed = try bench.status(key)
        #expect(closed["state"] == "healthy", "\(closed)")
        #expect(closed["untilMs"] == .null, "\(closed)")
        #expect((closed["consecutiveErrors"]["server"].int ?? 0) == 0, "\(closed)")
        // Closed admits every caller.
        #expect(try bench.isAvailable(key))
        #expect(try bench.isAvailable(key))
        // Below the threshold again.
        #expect(try bench.report(key, status: 500, times: 2)["state"] == "healthy")
    }

    @Test func networkErrorsOpenTheCircuitToo() throws {
        let bench = try HealthBench()
        #expect(try bench.report("openai.k1", ["errorClass": "network"])["state"] == "healthy")
        #expect(try bench.report("openai.k1", ["errorClass": "network"])["state"] == "healthy")
        let opened = try bench.report("openai.k1", ["errorClass": "network"])
        #expect(opened["state"] == "open", "\(opened)")
        #expect(opened["untilMs"] == .int(t0 + 30 * B.second), "\(opened)")
        #expect(try bench.status("openai.k1")["consecutiveErrors"]["network"] == 3)
    }

    /// Each failed probe re-opens for 30 s × trips: 30, 60, …, 300 s, and never longer than 300 s.
    @Test func openTimeGrowsWithTripsUpTo300Seconds() throws {
        let bench = try HealthBench()
        var now = t0
        let opened = try bench.report("openai.k1", status: 500, times: 3)
        #expect(opened["untilMs"] == .int(now + 30 * B.second), "\(opened)")
        for trips in Int64(2)...12 {
            now = try bench.at(now + min(30 * (trips - 1), 300) * B.second)
            #expect(try bench.status("openai.k1")["state"] == "halfOpen", "before trip \(trips)")
            #expect(try bench.isAvailable("openai.k1"), "the probe before trip \(trips)")
            let reopened = try bench.report("openai.k1", ["status": 500])
            #expect(reopened["state"] == "open", "trip \(trips): \(reopened)")
            #expect(reopened["untilMs"] == .int(now + min(30 * trips, 300) * B.second), "trip \(trips): \(reopened)")
            #expect(try bench.status("openai.k1")["trips"] == .int(trips))
        }
    }

    /// Keys have their own circuits.
    @Test func circuitsArePerKey() throws {
        let bench = try HealthBench()
        try bench.report("openai.k1", status: 500, times: 3)
        try bench.report("openai.k2", status: 500, times: 2)
        let answer = try bench.available(["openai.k1", "openai.k2"])
        #expect(answer["available"] == ["openai.k2"], "\(answer)")
    }

    /// `peek: true` (routing's pool queries and dry runs) reports a halfOpen key with a free
    /// probe as usable without handing the probe out: only a plain call takes it.
    @Test func aPeekDoesNotSpendTheProbe() throws {
        let bench = try HealthBench()
        let key = "openai.k1"
        try bench.report(key, status: 500, times: 3)
        try bench.at(t0 + 30 * B.second)
        for _ in 0..<3 {
            let peeked = try bench.host.call("health.available", ["providerKeys": [.string(key)], "peek": true])
            #expect(peeked["available"] == [.string(key)], "\(peeked)")
        }
        try expectProbeAdmittedOnce(bench, key)
        let afterward = try bench.host.call("health.available", ["providerKeys": [.string(key)], "peek": true])
        #expect(afterward["available"] == [], "the probe is out: a peek sees it taken \(afterward)")
    }

    /// At the timeout the key is halfOpen; the first `health.available` asking for it gets it,
    /// the second does not (one probe), and `health.status` does not take the probe.
    private func expectProbeAdmittedOnce(
        _ bench: HealthBench, _ key: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try bench.status(key)["state"] == "halfOpen", sourceLocation: sourceLocation)
        #expect(try bench.status(key)["state"] == "halfOpen", "status must not take the probe", sourceLocation: sourceLocation)
        let probe = try bench.available(["other.key", key])
        #expect(probe["available"] == ["other.key", .string(key)], "the probe should be admitted: \(probe)", sourceLocation: sourceLocation)
        let second = try bench.available([key])
        #expect(second["available"] == [], "only one probe is admitted: \(second)", sourceLocation: sourceLocation)
        #expect(second["unavailable"][0]["providerKey"] == .string(key), "\(second)", sourceLocation: sourceLocation)
        #expect(second["unavailable"][0]["state"] == "halfOpen", "\(second)", sourceLocation: sourceLocation)
        #expect(try bench.status(key)["state"] == "halfOpen", sourceLocation: sourceLocation)
    }
}
