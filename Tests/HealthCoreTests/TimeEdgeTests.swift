import Foundation
@testable import HealthCore
import ModHostSupport
import Testing
import ModuleSupport

/// The engine at the edges of time: near the epoch, near 9999-12-31 (the end of the clock's
/// range), and across jumps of ±2^63 ms. Nothing may trap (a trap in a plugin is the host's
/// crash), and every deadline an operation produces lies within the clock's range.
@Suite struct TimeEdgeTests {
    static let end = HostTime.latestMs

    /// Every kind of report and query on a fresh engine at `now`; returns the deadlines seen.
    private func exercise(_ bench: Bench, at now: Int64) throws -> [Int64] {
        var deadlines: [Int64?] = []
        func note(_ result: ReportResult) { deadlines.append(result.untilMs) }
        note(try bench.report("chain", status: 429, at: now))
        note(try bench.report("chain", status: 429, at: now))
        note(try bench.report("hinted", status: 429, retryAfter: .seconds(3600), at: now))
        // More than a year ahead unless now is near the end: refused then, never a trap.
        if let dated = try? bench.report("dated", status: 429, retryAfter: .text("Fri, 31 Dec 9999 23:59:59 GMT"), at: now) {
            note(dated)
        }
        note(try bench.report("delay", status: 429, body: #"{"retryDelay": "30s"}"#, at: now))
        note(try bench.report("after", status: 429, body: "reset after 3h22m41s", at: now))
        note(try bench.report("at", status: 429, body: #"{"resetAt": "9999-12-31T23:59:59Z"}"#, at: now))
        note(try bench.report("daily", status: 429, body: #"{"resetAt": "07:00"}"#, at: now))
        note(try bench.report("midnight", errorClass: .quota, at: now))
        note(try bench.report("quota", errorClass: .quota, retryAfter: .seconds(7200), at: now))
        for _ in 0..<3 { note(try bench.report("srv", status: 500, at: now)) }
        note(try bench.report("auth", status: 401, at: now))
        note(try bench.report("s.k1", errorClass: .seriesQuota, series: "s", at: now))
        _ = try bench.success("srv", at: now)
        let available = bench.available(["chain", "srv", "s.k1", "fresh"], at: now)
        deadlines.append(available.earliestRecoveryMs)
        deadlines += available.unavailable.map(\.untilMs)
        let snapshot = bench.snapshot(at: now)
        deadlines += snapshot.entries.map(\.untilMs) + snapshot.series.map(\.untilMs)
        deadlines += bench.effects.events.map(\.data.untilMs)
        for key in ["chain", "srv", "midnight", "s.k1"] { deadlines.append(try bench.status(key, at: now).untilMs) }
        return deadlines.compactMap { $0 }
    }

    @Test(arguments: [Int64(0), 1, 86_400_000, TimeEdgeTests.end - 86_400_000, TimeEdgeTests.end - 1, TimeEdgeTests.end])
    func everyRuleAtTheEdgesStaysWithinTheRange(_ now: Int64) throws {
        let bench = Bench()
        let deadlines = try exercise(bench, at: now)
        #expect(!deadlines.isEmpty)
        for deadline in deadlines {
            #expect(HostTime.validMs.contains(deadline), "deadline \(deadline) at now \(now)")
        }
        // And the circuit's open time runs out, even at the end of time.
        for _ in 0..<3 { _ = try bench.report("srv2", status: 500, at: now) }
        #expect(try bench.state("srv2", at: HostTime.deadline(now, plus: bench.engine.config.circuitMaxOpenMs)) != .open
            || now >= Self.end - bench.engine.config.circuitMaxOpenMs)
    }

    /// Jumps of ±2^63 between operations (a clock set far back or forward, a record from
    /// another time): every rule that subtracts two times (the backoff's quiet period, the
    /// probe's timeout, hint checks) must not trap.
    static let jumps: [(Int64, Int64)] = [(.max, .min), (.min, .max), (end, 0), (0, end), (.max, 0), (.min, 0)]

    @Test(arguments: TimeEdgeTests.jumps)
    func jumpsOfTwoToTheSixtyThirdDoNotTrap(_ from: Int64, _ to: Int64) throws {
        let bench = Bench()
        _ = try? exercise(bench, at: from)
        _ = try bench.state("srv", at: from)
        // The circuit is halfOpen or open; a probe handed out at `from`.
        _ = bench.available(["srv", "chain"], at: from)
        _ = try? exercise(bench, at: to)
        _ = bench.available(["srv", "chain"], at: to)
        _ = bench.snapshot(at: to)
        _ = try bench.engine.reset(nil, at: to, effects: &bench.effects)
    }

    @Test func hintsFarAheadAreCappedNotOverflowed() throws {
        let bench = Bench()
        let result = try bench.report("k", status: 429, body: "reset after 106000000d", at: Self.end - 10)
        #expect(result.untilMs.map { HostTime.validMs.contains($0) } ?? true, "\(result)")
        let reading = Hints.inBody(#"{"retryDelay": "9223372036854775s"}"#, nowMs: Self.end, timeZone: utc)
        #expect(reading.hints.isEmpty)
        #expect(try Hints.retryAfter(.seconds(31_536_000), nowMs: Self.end) == .until(Self.end))
        #expect(CivilTime.nextMidnight(after: Self.end, in: utc) == Self.end)
        #expect(CivilTime.nextMidnight(after: Int64.max, in: utc) == Self.end)
        #expect(CivilTime.nextUTCTime(ofDayMs: 3_600_000, after: Int64.max) == Int64.max)
    }
}
