import Foundation
@testable import HealthCore
import Testing

/// What reaches the store, what comes back from it (unexpired only), the snapshot, and the state
/// a hot swap carries.
@Suite struct PersistenceTests {
    /// A key in every state at t0: cooldown 10 s and 60 s, open 30 s, auth, quota until midnight,
    /// one counted error (healthy, not stored), a tripped series.
    private func populated() throws -> Bench {
        let bench = try Bench { try $0.series.add("claude", ["claude.k1", "claude.k2", "claude.k3", "claude.k4"]) }
        try bench.report("tiny", status: 429, retryAfter: .seconds(10), at: t0)
        try bench.report("short", status: 429, retryAfter: .seconds(60), at: t0)
        for _ in 1...3 { try bench.report("srv", status: 500, at: t0) }
        try bench.report("auth", status: 401, at: t0)
        try bench.report("quota", errorClass: .quota, at: t0)
        try bench.report("flaky", status: 500, at: t0)
        try bench.report("claude.k1", errorClass: .seriesQuota, retryAfter: .seconds(600), at: t0)
        return bench
    }

    /// The records a store would hold after `bench`'s writes.
    private func store(after writes: [StoreWrite]) -> (keys: [String: KeyEntry], series: [String: SeriesTrip]) {
        var keys: [String: KeyEntry] = [:]
        var series: [String: SeriesTrip] = [:]
        for write in writes {
            switch write {
            case .putKey(let entry): keys[entry.providerKey] = entry
            case .deleteKey(let key): keys[key] = nil
            case .putSeries(let trip): series[trip.series] = trip
            case .deleteSeries(let name): series[name] = nil
            }
        }
        return (keys, series)
    }

    @Test func everyStateChangeIsWrittenAndHealthyKeysAreDeleted() throws {
        let bench = try populated()
        #expect(Set(store(after: bench.effects.writes).keys.keys) == ["tiny", "short", "srv", "auth", "quota"])
        #expect(store(after: bench.effects.writes).series.keys.sorted() == ["claude"])
        _ = bench.takeWrites()

        // A shorter hint changes nothing: nothing is written.
        try bench.report("short", status: 429, retryAfter: .seconds(5), at: t0 + 1)
        #expect(bench.takeWrites().isEmpty)
        // Recoveries delete.
        _ = try bench.engine.tokenRefreshed("auth", at: t0 + 2, effects: &bench.effects)
        _ = try bench.engine.reset("short", at: t0 + 2, effects: &bench.effects)
        #expect(bench.takeWrites() == ["delete key/auth", "delete key/short"])
        // Expiry deletes at the next operation.
        _ = bench.snapshot(at: t0 + 10 * second)
        #expect(bench.takeWrites() == ["delete key/tiny"])
    }

    @Test func storedRecordsRoundTripThroughJSON() throws {
        let bench = try populated()
        let records = store(after: bench.effects.writes)
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        for entry in records.keys.values {
            #expect(try decoder.decode(KeyEntry.self, from: encoder.encode(entry)) == entry)
        }
        let json = String(decoding: try encoder.encode(records.keys["srv"]), as: UTF8.self)
        #expect(json.contains(#""state":"open""#) && json.contains(#""providerKey":"srv""#))
    }

    /// Loading drops what expired (and deletes its record); auth blocks stay.
    @Test(arguments: [
        (t0 + 20 * second, ["short", "srv", "auth", "quota"], ["claude"]),
        (t0 + 30 * second, ["short", "auth", "quota"], ["claude"]),  // the circuit's time is up
        (t0 + 2 * hour, ["auth", "quota"], []),
        (t0 + day, ["auth"], []),
    ] as [(Int64, [String], [String])])
    func loadDropsExpiredEntries(_ now: Int64, _ kept: [String], _ series: [String]) throws {
        let records = store(after: try populated().effects.writes)
        let restarted = try Bench { try $0.series.add("claude", ["claude.k1", "claude.k2", "claude.k3", "claude.k4"]) }
        restarted.engine.load(keys: Array(records.keys.values), series: Array(records.series.values), at: now,
                              effects: &restarted.effects)
        let snapshot = restarted.snapshot(at: now)
        #expect(snapshot.entries.map(\.providerKey) == kept.sorted())
        #expect(snapshot.series.map(\.series) == series)
        let deleted = Set(records.keys.keys).subtracting(kept).map { "delete key/\($0)" }
            + Set(records.series.keys).subtracting(series).map { "delete series/\($0)" }
        #expect(Set(restarted.takeWrites()) == Set(deleted))
        if kept.contains("srv") {
            #expect(try restarted.status("srv", at: now).trips == 1)
            #expect(try restarted.state("srv", at: t0 + 30 * second) == .halfOpen)
        }
    }

    @Test func snapshotListsOnlyUnexpiredOutEntries() throws {
        let bench = try populated()
        let snapshot = bench.snapshot(at: t0)
        #expect(snapshot.entries.map(\.providerKey) == ["auth", "quota", "short", "srv", "tiny"])
        #expect(snapshot.entries.first { $0.providerKey == "srv" } == .init(
            providerKey: "srv", state: .open, untilMs: t0 + 30 * second, reason: "server", series: nil, trips: 1))
        #expect(bench.snapshot(at: t0 + 10 * second).entries.map(\.providerKey) == ["auth", "quota", "short", "srv"])
        #expect(bench.snapshot(at: t0 + 60 * second).entries.map(\.providerKey) == ["auth", "quota"])
        #expect(bench.snapshot(at: t0 + 600 * second).series.isEmpty)
    }

    @Test func exportAndImportKeepEveryEntry() throws {
        let old = try populated()
        try old.report("chain", status: 429, at: t0)
        let state = old.engine.exportState()
        let json = try JSONEncoder().encode(state)
        let new = try Bench { try $0.series.add("claude", ["claude.k1", "claude.k2", "claude.k3", "claude.k4"]) }
        new.engine.importState(try JSONDecoder().decode(HealthState.self, from: json))
        #expect(new.engine.exportState() == state)
        let now = t0 + 5 * second
        #expect(new.engine.statusOfAll(at: now, effects: &new.effects).entries
            == old.engine.statusOfAll(at: now, effects: &old.effects).entries)
        // The counts came along: one more server error opens "flaky"; the chain takes step 2.
        #expect(try new.report("flaky", status: 500, at: now).state == .healthy)
        #expect(try new.report("flaky", status: 500, at: now).state == .open)
        #expect(try new.report("chain", status: 429, at: t0 + 15 * second).untilMs == t0 + 45 * second)
        // Deadlines that pass after the import still take effect.
        #expect(try new.state("tiny", at: t0 + 10 * second) == .healthy)
        #expect(new.takeWrites().contains("delete key/tiny"))
    }
}
