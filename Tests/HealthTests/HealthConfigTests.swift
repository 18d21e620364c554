import ModHostTestKit
import Testing

/// The "health" section of the host's `--config` file changes the defaults: the cooldown cap, the
/// backoff chain and its reset, the circuit's threshold and open times.
@Suite struct HealthConfigTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    /// With the cap lifted, "reset after 3h22m41s" is read exactly; a longer hint stops at the cap.
    @Test func cooldownCap() throws {
        let bench = try HealthBench(config: ["cooldownCapMs": 86_400_000])
        let text = try bench.report("claude.k1", ["status": 429, "body": "Rate limit exceeded. Limits reset after 3h22m41s."])
        let until = t0 + 3 * B.hour + 22 * B.minute + 41 * B.second
        #expect(text["untilMs"] == .int(until), "\(text)")
        try bench.expectOutUntil("claude.k1", "cooldown", until: until)

        let capped = try bench.report("claude.k2", ["status": 429, "retryAfter": 200_000])
        #expect(capped["untilMs"] == .int(until + 86_400_000), "\(capped)")
    }

    @Test func backoffStepsAndReset() throws {
        let bench = try HealthBench(config: ["backoffMs": [1000, 5000], "backoffResetMs": 60_000])
        var now = t0
        for step: Int64 in [1000, 5000, 5000, 5000] {  // the last step repeats
            #expect(try bench.report("k", ["status": 429])["untilMs"] == .int(now + step), "step \(step) at \(now - t0)")
            now = try bench.at(now + step)
        }
        // 1 ms short of a minute without errors, the chain goes on; at a minute it starts over.
        now = try bench.at(now + 60_000 - 5000 - 1)
        #expect(try bench.report("k", ["status": 429])["untilMs"] == .int(now + 5000))
        now = try bench.at(now + 60_000)
        #expect(try bench.report("k", ["status": 429])["untilMs"] == .int(now + 1000))
    }

    /// The whole default chain, each error when the last cooldown ends; with the reset moved to
    /// 2 h, none of the gaps resets it: 15 s, 30 s, 1 m, 5 m, 30 m, 1 h, and 1 h from then on.
    @Test func fullDefaultBackoffChain() throws {
        let bench = try HealthBench(config: ["backoffResetMs": 7_200_000])
        var now = t0
        for step in [15 * B.second, 30 * B.second, B.minute, 5 * B.minute, 30 * B.minute, B.hour, B.hour] {
            #expect(try bench.report("k", ["status": 429])["untilMs"] == .int(now + step), "step \(step)")
            now = try bench.at(now + step)
        }
    }

    /// Threshold 2, open 10 s × trips, at most 25 s: 10, 20, 25, 25.
    @Test func circuitThresholdAndOpenTimes() throws {
        let bench = try HealthBench(config: ["circuitThreshold": 2, "circuitOpenMs": 10_000, "circuitMaxOpenMs": 25_000])
        #expect(try bench.report("k", ["status": 500])["state"] == "healthy")
        var now = t0
        var opened = try bench.report("k", ["status": 500])
        #expect(opened["state"] == "open" && opened["untilMs"] == .int(now + 10_000), "\(opened)")
        for open: Int64 in [20_000, 25_000, 25_000] {
            now = try bench.at(opened["untilMs"].int ?? 0)
            #expect(try bench.isAvailable("k"))
            opened = try bench.report("k", ["status": 500])
            #expect(opened["untilMs"] == .int(now + open), "\(opened)")
        }
    }
}
