import ModuleContracts

extension HealthEngine {
    /// A key as callers see it: its own state, unless its series is tripped, which makes a
    /// usable key `cooldown` (reason `series`) and pushes a deadline later.
    struct View {
        var state: KeyState
        var untilMs: Int64?
        var reason: String
        var detail: String?
        var seriesUntilMs: Int64?
    }

    func view(of key: String, detailed: Bool = true) -> View {
        let entry = entries[key]
        var view = View(state: entry?.state ?? .healthy, untilMs: entry?.untilMs, reason: entry?.reason ?? "ok",
                        detail: detailed ? entry?.detail : nil)
        if view.state == .halfOpen { view.untilMs = entry?.circuit.probeRetryAt(timeoutMs: config.probeTimeoutMs) }
        guard let series = entry?.series ?? (entry == nil ? config.series.series(of: key) : nil),
            let trip = seriesTrips[series]
        else { return view }
        view.seriesUntilMs = trip.untilMs
        switch view.state {
        case .healthy, .halfOpen:
            view = View(state: .cooldown, untilMs: trip.untilMs, reason: "series",
                        detail: detailed ? "series \(series) tripped (\(trip.reason))" : nil, seriesUntilMs: trip.untilMs)
        case .cooldown, .open:
            view.untilMs = max(view.untilMs ?? trip.untilMs, trip.untilMs)
        case .blacklisted:
            if let until = view.untilMs { view.untilMs = max(until, trip.untilMs) }
        }
        return view
    }

    /// `health.available`: the usable keys in the order given; for the others their state and
    /// deadline, and the earliest deadline among them (ModuleContracts' `AvailableAnswer`, the
    /// type routing reads it with). Unknown keys are healthy. A halfOpen key
    /// is handed out once (its probe), then refused until the probe's result or its timeout;
    /// with `peek` a halfOpen key whose probe is free is reported usable and the probe is not
    /// handed out (routing's pool queries and dry runs), so only a plain call spends it.
    public mutating func available(_ keys: [String], at nowMs: Int64, peek: Bool = false, effects: inout Effects) -> AvailableAnswer {
        advance(to: nowMs, effects: &effects)
        var result = AvailableAnswer(available: [], unavailable: [])
        result.available.reserveCapacity(keys.count)
        for key in keys {
            let state = entries[key]?.state ?? .healthy
            let series = entries[key]?.series ?? config.series.series(of: key)
            let tripped = series.map { seriesTrips[$0] != nil } ?? false
            if !tripped {
                if state == .healthy {
                    result.available.append(key)
                    continue
                }
                if state == .halfOpen, let circuit = entries[key]?.circuit,
                    peek ? circuit.probeFree(at: nowMs, timeoutMs: config.probeTimeoutMs)
                        : entries[key]!.circuit.admitProbe(at: nowMs, timeoutMs: config.probeTimeoutMs)
                {
                    result.available.append(key)
                    continue
                }
            }
            let view = view(of: key, detailed: false)
            result.unavailable.append(.init(providerKey: key, state: view.state.rawValue, untilMs: view.untilMs, reason: view.reason))
            if let until = view.untilMs { result.earliestRecoveryMs = min(result.earliestRecoveryMs ?? until, until) }
        }
        return result
    }

    /// `health.status {providerKey}`: one key (healthy when unknown).
    public mutating func status(of key: String, at nowMs: Int64, effects: inout Effects)
        throws(HealthInputError) -> KeyStatus
    {
        try ProviderError.check(providerKey: key)
        advance(to: nowMs, effects: &effects)
        return status(key)
    }

    /// `health.status {}`: every key the module knows, by key.
    public mutating func statusOfAll(at nowMs: Int64, effects: inout Effects) -> StatusList {
        advance(to: nowMs, effects: &effects)
        return StatusList(entries: entries.keys.sorted().map(status))
    }

    private func status(_ key: String) -> KeyStatus {
        let view = view(of: key)
        let entry = entries[key]
        return KeyStatus(
            providerKey: key, state: view.state, untilMs: view.untilMs, reason: view.reason, detail: view.detail,
            series: entry?.series ?? config.series.series(of: key), seriesUntilMs: view.seriesUntilMs,
            consecutiveErrors: entry?.consecutiveErrors ?? ErrorCounts(), lastError: entry?.lastError,
            trips: entry?.circuit.trips ?? 0, backoffStep: entry?.backoff.step ?? 0)
    }

    /// `health.snapshot`: the keys out of service by their own state (cooldown, open,
    /// blacklisted; expired ones are gone) and the tripped series, each sorted.
    public mutating func snapshot(at nowMs: Int64, effects: inout Effects) -> Snapshot {
        advance(to: nowMs, effects: &effects)
        let out = entries.values.filter { $0.state.isOut }.sorted { $0.providerKey < $1.providerKey }
        return Snapshot(
            entries: out.map {
                .init(providerKey: $0.providerKey, state: $0.state, untilMs: $0.untilMs, reason: $0.reason,
                      series: $0.series, trips: $0.circuit.trips)
            },
            series: seriesTrips.values.sorted { $0.series < $1.series }.map { .init(series: $0.series, untilMs: $0.untilMs) })
    }

    /// `health.reset`: forgets one key (counts, trips, deadlines) or, without a key, every
    /// key and series trip. Returns how many keys were forgotten.
    public mutating func reset(_ key: String?, at nowMs: Int64, effects: inout Effects) throws(HealthInputError) -> Int {
        if let key { try ProviderError.check(providerKey: key) }
        advance(to: nowMs, effects: &effects)
        if let key { return remove(key, effects: &effects) ? 1 : 0 }
        let keys = entries.keys.sorted()
        for key in keys { _ = remove(key, effects: &effects) }
        for series in seriesTrips.keys.sorted() { effects.writes.append(.deleteSeries(series)) }
        seriesTrips = [:]
        outCounts = [:]
        deadlines.removeAll()
        return keys.count
    }
}
