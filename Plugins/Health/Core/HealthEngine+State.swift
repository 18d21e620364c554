extension HealthEngine {
    /// Restores what the store held at start-up. Expired deadlines are dropped (an open
    /// circuit whose time is up is not restored either); records left with nothing running
    /// are deleted. Auth blocks (no deadline) stay.
    public mutating func load(keys records: [KeyEntry], series trips: [SeriesTrip], at nowMs: Int64,
                              effects: inout Effects) {
        for var entry in records {
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
            guard trip.untilMs > nowMs else {
                effects.writes.append(.deleteSeries(trip.series))
                continue
            }
            seriesTrips[trip.series] = trip
            deadlines.insert(trip.untilMs, .series(trip.series))
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
