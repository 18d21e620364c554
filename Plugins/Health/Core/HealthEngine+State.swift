import ModHostSupport

extension HealthEngine {
    /// Restores what the store held at start-up. Expired deadlines are dropped (an open
    /// circuit whose time is up is not restored either); records left with nothing running
    /// are deleted. Auth blocks (no deadline) stay. A record these rules cannot have written
    /// before `nowMs` (`Restore`: a deadline further ahead than any rule sets, a time outside
    /// the clock's range) is deleted too, with a warning naming its store key and why.
    public mutating func load(keys records: [KeyEntry], series trips: [SeriesTrip], at nowMs: Int64,
                              effects: inout Effects) {
        var dropped = 0
        func drop(_ write: StoreWrite, because reason: String) {
            effects.writes.append(write)
            dropped += 1
            if dropped <= Restore.namedInLog {
                effects.notes.append("dropping stored record \(LogText.quote(write.storeKey)): \(reason)")
            }
        }
        entries.reserveCapacity(records.count)
        for var entry in records {
            if let reason = Restore.implausibility(of: entry, at: nowMs, config: config) {
                drop(.deleteKey(entry.providerKey), because: reason)
                continue
            }
            entry.expire(at: nowMs)
            entry.circuit.dropExpired(at: nowMs)
            guard entry.state.isOut else {
                effects.writes.append(.deleteKey(entry.providerKey))
                continue
            }
            entry.persisted = true
            entry.announcedState = entry.state
            insert(entry)
        }
        for trip in trips {
            if let reason = Restore.implausibility(of: trip, at: nowMs, config: config) {
                drop(.deleteSeries(trip.series), because: reason)
                continue
            }
            guard trip.untilMs > nowMs else {
                effects.writes.append(.deleteSeries(trip.series))
                continue
            }
            seriesTrips[trip.series] = trip
            deadlines.insert(trip.untilMs, .series(trip.series))
        }
        if dropped > Restore.namedInLog {
            effects.notes.append("dropped \(dropped - Restore.namedInLog) more stored records for the same kinds of reason")
        }
    }

    /// Whether the store record `write` names is one the engine holds now (a key out of
    /// service, a tripped series): the plugin's deferred deletion of stale records skips it.
    public func holdsRecord(_ write: StoreWrite) -> Bool {
        switch write {
        case .putKey(let entry): entries[entry.providerKey]?.persisted == true
        case .deleteKey(let key): entries[key]?.persisted == true
        case .putSeries(let trip): seriesTrips[trip.series] != nil
        case .deleteSeries(let series): seriesTrips[series] != nil
        }
    }

    /// Everything in memory, for a hot swap: keys by name, then tripped series.
    public func exportState() -> HealthState {
        HealthState(entries: entries.keys.sorted().compactMap { entries[$0] },
                    series: seriesTrips.values.sorted { $0.series < $1.series })
    }

    /// Replaces everything in memory with a state exported by a previous version. Deadlines
    /// that passed in between take effect at the next operation (events included).
    public mutating func importState(_ state: HealthState) {
        entries = [:]
        seriesTrips = [:]
        outCounts = [:]
        deadlines.removeAll()
        resetMembers()
        for entry in state.entries { insert(entry) }
        for trip in state.series {
            seriesTrips[trip.series] = trip
            deadlines.insert(trip.untilMs, .series(trip.series))
        }
    }

    /// Adds an entry as it is (announced state and all), with its series bookkeeping.
    private mutating func insert(_ entry: KeyEntry) {
        var entry = entry
        entry.countedOutIn = nil
        if let series = entry.series {
            members[series, default: []].insert(entry.providerKey)
            if entry.announcedState.isOut {
                entry.countedOutIn = series
                outCounts[series, default: 0] += 1
            }
        }
        if let deadline = entry.nextDeadline { deadlines.insert(deadline, .key(entry.providerKey)) }
        entries[entry.providerKey] = entry
    }

    /// How many keys the module holds (for tests and the log).
    public var keyCount: Int { entries.count }
}
