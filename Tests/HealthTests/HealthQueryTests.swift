import ModHostTestKit
import Testing

/// What the health module answers about its keys, through the real host and libHealth.so:
/// `health.available` (usable keys in the given order, the others with their deadlines, the
/// earliest recovery), `health.status`, `health.snapshot` (unexpired entries only) and
/// `health.reset`.
@Suite struct HealthQueryTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    /// One key in each state: cooldown (60 s), open (30 s), auth (no deadline), quota (midnight),
    /// one counted server error (still healthy).
    private func populate(_ bench: HealthBench) throws {
        try bench.report("cool", ["status": 429, "retryAfter": 60])
        try bench.report("open", status: 500, times: 3)
        try bench.report("auth", ["status": 401])
        try bench.report("quota", ["errorClass": "quota"])
        try bench.report("flaky", ["status": 500])
    }

    private func unavailable(_ answer: JSON) -> [String: JSON] {
        let entries = answer["unavailable"].array ?? []
        return Dictionary(entries.map { ($0["providerKey"].string ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: available

    @Test func availableKeepsTheGivenOrderAndNamesTheEarliestRecovery() throws {
        let bench = try HealthBench()
        try populate(bench)
        let answer = try bench.available(["cool", "flaky", "open", "unknown", "auth", "quota", "also.unknown"])
        #expect(answer["available"] == ["flaky", "unknown", "also.unknown"], "\(answer)")
        let out = unavailable(answer)
        #expect(Set(out.keys) == ["cool", "open", "auth", "quota"], "\(answer)")
        #expect(out["cool"]?["state"] == "cooldown" && out["cool"]?["untilMs"] == .int(t0 + 60 * B.second), "\(answer)")
        #expect(out["open"]?["state"] == "open" && out["open"]?["untilMs"] == .int(t0 + 30 * B.second), "\(answer)")
        #expect(out["auth"]?["state"] == "blacklisted" && out["auth"]?["untilMs"] == .null, "\(answer)")
        #expect(out["quota"]?["state"] == "blacklisted" && out["quota"]?["untilMs"] == .int(t0 + B.day), "\(answer)")
        #expect(answer["earliestRecoveryMs"] == .int(t0 + 30 * B.second), "\(answer)")

        // Once the circuit's time is up it is halfOpen: the probe is admitted, the earliest
        // recovery is the cooldown's.
        try bench.at(t0 + 30 * B.second)
        let later = try bench.available(["cool", "open", "auth"])
        #expect(later["available"] == ["open"], "\(later)")
        #expect(later["earliestRecoveryMs"] == .int(t0 + 60 * B.second), "\(later)")
    }

    @Test func availableWithoutAKnownRecoveryOmitsIt() throws {
        let bench = try HealthBench()
        try populate(bench)
        let authOnly = try bench.available(["auth"])
        #expect(authOnly["available"] == [] && authOnly["unavailable"].array?.count == 1, "\(authOnly)")
        #expect(authOnly["earliestRecoveryMs"] == .null, "an auth blacklist has no recovery time: \(authOnly)")

        let allUsable = try bench.available(["flaky", "unknown"])
        #expect(allUsable["available"] == ["flaky", "unknown"], "\(allUsable)")
        #expect(allUsable["unavailable"] == [], "\(allUsable)")
        #expect(allUsable["earliestRecoveryMs"] == .null, "\(allUsable)")

        let none = try bench.available([])
        #expect(none["available"] == [] && none["unavailable"] == [], "\(none)")
    }

    // MARK: status

    @Test func statusOfOneKeyAndOfAll() throws {
        let bench = try HealthBench()
        try populate(bench)
        let cool = try bench.status("cool")
        #expect(cool["state"] == "cooldown" && cool["untilMs"] == .int(t0 + 60 * B.second), "\(cool)")
        #expect(cool["consecutiveErrors"]["rate_limit"] == 1, "\(cool)")
        #expect(cool["lastError"] != .null, "\(cool)")
        #expect(cool["trips"] == 0, "\(cool)")
        let open = try bench.status("open")
        #expect(open["state"] == "open" && open["trips"] == 1 && open["consecutiveErrors"]["server"] == 3, "\(open)")

        let all = try bench.allStatuses()
        #expect(all["cool"]?["state"] == "cooldown", "\(all)")
        #expect(all["open"]?["state"] == "open", "\(all)")
        #expect(all["auth"]?["state"] == "blacklisted", "\(all)")
        #expect(all["quota"]?["state"] == "blacklisted", "\(all)")
        #expect(all["unknown"] == nil, "\(all)")
    }

    // MARK: snapshot

    @Test func snapshotListsOnlyUnexpiredEntries() throws {
        let bench = try HealthBench()
        try populate(bench)
        try bench.report("long", ["status": 429, "retryAfter": 300])
        try bench.report("recovered", ["status": 401])
        try bench.host.call("events.publish", ["topic": "token.refreshed", "data": ["providerKey": "recovered"]])

        let snapshot = try bench.snapshot()
        #expect(try bench.snapshotKeys() == ["cool", "open", "auth", "quota", "long"], "\(snapshot)")
        #expect(snapshot["series"] == [], "\(snapshot)")
        let long = (snapshot["entries"].array ?? []).first { $0["providerKey"] == "long" }
        #expect(long?["state"] == "cooldown" && long?["untilMs"] == .int(t0 + 300 * B.second), "\(snapshot)")

        try bench.at(t0 + 30 * B.second - 1)
        #expect(try bench.snapshotKeys() == ["cool", "open", "auth", "quota", "long"])
        // The circuit closes on a successful probe.
        try bench.at(t0 + 30 * B.second)
        #expect(try bench.isAvailable("open"))
        try bench.reportSuccess("open")
        #expect(try bench.snapshotKeys() == ["cool", "auth", "quota", "long"])
        try bench.at(t0 + 60 * B.second - 1)
        #expect(try bench.snapshotKeys() == ["cool", "auth", "quota", "long"])
        try bench.at(t0 + 60 * B.second)
        #expect(try bench.snapshotKeys() == ["auth", "quota", "long"], "the expired cooldown should be gone")
        try bench.at(t0 + 300 * B.second)
        #expect(try bench.snapshotKeys() == ["auth", "quota"])
        try bench.at(t0 + B.day)
        #expect(try bench.snapshotKeys() == ["auth"])
    }

    // MARK: reset

    @Test func resetOneKeyThenAll() throws {
        let bench = try HealthBench()
        try populate(bench)
        #expect(try bench.host.call("health.reset", ["providerKey": "cool"]) == ["reset": 1])
        try bench.expect("cool", "healthy", until: nil)
        try bench.expect("open", "open", until: t0 + 30 * B.second)
        #expect(try bench.host.call("health.reset", ["providerKey": "never.seen"]) == ["reset": 0])

        let all = try bench.host.call("health.reset", [:])
        #expect((all["reset"].int ?? 0) >= 3, "open, auth and quota were out: \(all)")
        for key in ["open", "auth", "quota", "flaky"] {
            try bench.expect(key, "healthy", until: nil)
        }
        #expect(try bench.snapshot()["entries"] == [])
        #expect(try bench.host.call("health.reset", [:]) == ["reset": 0], "nothing left to reset")
    }

    /// A reset key starts from nothing: no error count, no trips.
    @Test func resetForgetsCountsAndTrips() throws {
        let bench = try HealthBench()
        try bench.report("k", status: 500, times: 3)
        try bench.at(t0 + 30 * B.second)
        try bench.report("k", ["status": 500])  // failed probe: trips 2
        try bench.report("flaky", status: 500, times: 2)
        try bench.host.call("health.reset", [:])

        #expect(try bench.report("flaky", ["status": 500])["state"] == "healthy", "the reset left the error count")
        let entry = try bench.status("k")
        #expect(entry["trips"] == 0, "\(entry)")
        let reopened = try bench.report("k", status: 500, times: 3)
        #expect(reopened["untilMs"] == .int(t0 + 60 * B.second), "the first trip after a reset opens for 30 s: \(reopened)")
    }
}
