import Foundation
import ModHostSupport
import ModuleSupport

/// The health rules over all provider keys and series: pure state, no host services. Every
/// operation takes the host clock's time (`nowMs`) and collects what the plugin must do
/// afterwards (store writes, events, log lines) in `Effects`.
///
/// Costs: a report or success is O(1) (plus O(log n) for a new deadline); `available` is O(n)
/// in the keys asked; `status` without a key and `snapshot` sort their entries.
///
/// Not thread-safe: the plugin keeps it behind a lock and calls it one operation at a time.
public struct HealthEngine: Sendable {
    public let config: HealthConfig
    /// The local time zone for "next local midnight" and hints without an offset.
    public let timeZone: TimeZone

    /// Every key reported since its last reset.
    var entries: [String: KeyEntry] = [:]
    /// Series currently tripped.
    var seriesTrips: [String: SeriesTrip] = [:]
    /// Keys of each series: configured exactly, or seen with it.
    var members: [String: Set<String>] = [:]
    /// Keys of each series that are out (cooldown, open, blacklisted).
    var outCounts: [String: Int] = [:]
    var deadlines = DeadlineHeap<HealthDeadline>()

    public init(config: HealthConfig, timeZone: TimeZone) {
        self.config = config
        self.timeZone = timeZone
        resetMembers()
    }

    mutating func resetMembers() {
        members = [:]
        for (key, series) in config.series.exact { members[series, default: []].insert(key) }
    }

    /// Applies every deadline up to `nowMs`: cooldowns and blacklists end, open circuits turn
    /// halfOpen, series trips end, and the records of what ended are deleted. Every operation
    /// starts with it. A deadline passing is not announced (subscribers have its `untilMs`);
    /// `health.recovered` is for a recovery a call or an event brought about.
    public mutating func advance(to nowMs: Int64, effects: inout Effects) {
        while let due = deadlines.first, due.atMs <= nowMs {
            _ = deadlines.popFirst()
            switch due.target {
            case .key(let key):
                if entries[key] != nil { update(key, at: nowMs, announcing: false, effects: &effects) { _, _, _ in } }
            case .series(let series):
                if let trip = seriesTrips[series], trip.untilMs <= nowMs {
                    seriesTrips[series] = nil
                    effects.writes.append(.deleteSeries(series))
                }
            }
        }
        compactDeadlinesIfNeeded()
    }

    // MARK: - Changing one key

    /// Runs `change` on `key`'s entry (a new one if unknown) after expiring its deadlines,
    /// then announces and persists what changed. `change` gets the engine and the effects
    /// passed through (it must not capture them).
    @discardableResult
    mutating func update<R>(_ key: String, at nowMs: Int64, announcing: Bool = true, effects: inout Effects,
                            _ change: (inout HealthEngine, inout KeyEntry, inout Effects) -> R) -> R {
        var entry = entries[key] ?? KeyEntry(providerKey: key, series: config.series.series(of: key))
        let before = entry.durable
        let deadlineBefore = entry.nextDeadline
        entry.expire(at: nowMs)
        let result = change(&self, &entry, &effects)
        settle(&entry, before: before, at: nowMs, announcing: announcing, effects: &effects)
        if let deadline = entry.nextDeadline, deadline != deadlineBefore { deadlines.insert(deadline, .key(key)) }
        entries[key] = entry
        return result
    }

    /// Announces a transition (`health.cooldown` when a cooldown starts or moves,
    /// `health.opened` when the circuit opens, `health.recovered` when a key is healthy again;
    /// blacklists and halfOpen have no event), writes or deletes the store record, keeps the
    /// series counts.
    private mutating func settle(_ entry: inout KeyEntry, before: KeyEntry.Durable, at nowMs: Int64, announcing: Bool,
                                 effects: inout Effects) {
        let after = entry.durable
        let previous = entry.announcedState
        if announcing {
            switch after.state {
            case .healthy:
                if previous != .healthy { effects.events.append(.recovered(entry.providerKey)) }
            case .open:
                if previous != .open || after.trips != before.trips { effects.events.append(.opened(entry)) }
            case .cooldown:
                if previous != .cooldown || after.untilMs != before.untilMs { effects.events.append(.cooldown(entry)) }
            case .halfOpen, .blacklisted:
                break
            }
        }
        entry.announcedState = after.state

        if after.state.isOut {
            if !entry.persisted || after != before {
                entry.persisted = true
                effects.writes.append(.putKey(entry))
            }
        } else if entry.persisted {
            entry.persisted = false
            effects.writes.append(.deleteKey(entry.providerKey))
        }

        if let series = entry.series { members[series, default: []].insert(entry.providerKey) }
        let countedIn = after.state.isOut ? entry.series : nil
        if countedIn != entry.countedOutIn {
            if let old = entry.countedOutIn { outCounts[old, default: 1] -= 1 }
            entry.countedOutIn = countedIn
            if let series = countedIn {
                outCounts[series, default: 0] += 1
                tripIfShareReached(series, at: nowMs, effects: &effects)
            }
        }
    }

    /// Forgets a key: `health.recovered` if it was out, its record deleted.
    mutating func remove(_ key: String, effects: inout Effects) -> Bool {
        guard let entry = entries.removeValue(forKey: key) else { return false }
        if let series = entry.countedOutIn { outCounts[series, default: 1] -= 1 }
        if entry.announcedState != .healthy { effects.events.append(.recovered(key)) }
        if entry.persisted { effects.writes.append(.deleteKey(key)) }
        return true
    }

    // MARK: - Series

    /// The series `key` belongs to: as last reported, else as configured.
    func series(of key: String) -> String? {
        if let entry = entries[key] { return entry.series }
        return config.series.series(of: key)
    }

    /// Moves `entry` to `series` (a report named it).
    mutating func assign(_ entry: inout KeyEntry, to series: String) {
        guard entry.series != series else { return }
        if let old = entry.series { members[old]?.remove(entry.providerKey) }
        entry.series = series
        members[series, default: []].insert(entry.providerKey)
    }

    private mutating func tripIfShareReached(_ series: String, at nowMs: Int64, effects: inout Effects) {
        guard seriesTrips[series] == nil, let total = members[series]?.count, total > 0 else { return }
        let out = outCounts[series] ?? 0
        guard Double(out) >= config.seriesTripShare * Double(total) else { return }
        trip(series, until: HostTime.deadline(nowMs, plus: config.seriesCooldownMs), reason: "share", effects: &effects)
    }

    /// Trips `series` until `untilMs`, or extends its trip; never shortens it.
    mutating func trip(_ series: String, until untilMs: Int64, reason: String, effects: inout Effects) {
        if let current = seriesTrips[series], current.untilMs >= untilMs { return }
        let trip = SeriesTrip(series: series, untilMs: untilMs, reason: reason)
        seriesTrips[series] = trip
        deadlines.insert(untilMs, .series(series))
        effects.writes.append(.putSeries(trip))
        effects.events.append(.seriesTripped(trip))
    }

    // MARK: - Deadlines

    /// Moved deadlines leave stale heap entries behind; rebuild when they dominate.
    private mutating func compactDeadlinesIfNeeded() {
        guard deadlines.count > 1024, deadlines.count > 4 * (entries.count + seriesTrips.count) else { return }
        rebuildDeadlines()
    }

    mutating func rebuildDeadlines() {
        deadlines.removeAll()
        for (key, entry) in entries {
            if let deadline = entry.nextDeadline { deadlines.insert(deadline, .key(key)) }
        }
        for (series, trip) in seriesTrips { deadlines.insert(trip.untilMs, .series(series)) }
    }
}
