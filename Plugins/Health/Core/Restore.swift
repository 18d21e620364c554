import ModHostSupport

/// Checks on records read back from the store, before the engine trusts them.
///
/// The rules only ever set a deadline at most `HealthConfig.longestDeadlineMs` ahead of the
/// clock, and only ever note a time that has come. A record outside that (a deadline in
/// 9999 or past the end of the clock's range, an error "seen" days from now) was written under
/// another clock, a manual one set far ahead say, or by something else: trusting it would keep
/// a key out for centuries, or feed times into arithmetic that was never meant to see them. Such
/// a record is dropped (and deleted) with a warning instead.
enum Restore {
    /// Slack for a clock that was somewhat ahead when the record was written (a day).
    static let marginMs: Int64 = 86_400_000
    /// The most records the log names one by one; the rest are counted in one line.
    static let namedInLog = 10

    /// Why `entry` cannot have been written by these rules before `nowMs`, or nil if it can.
    static func implausibility(of entry: KeyEntry, at nowMs: Int64, config: HealthConfig) -> String? {
        let limits = Limits(nowMs: nowMs, config: config)
        return limits.deadline("cooldownUntilMs", entry.cooldownUntilMs)
            ?? limits.deadline("quotaUntilMs", entry.quotaUntilMs)
            ?? limits.deadline("circuit.openUntilMs", entry.circuit.openUntilMs)
            ?? limits.past("lastError.atMs", entry.lastError?.atMs)
            ?? limits.past("backoff.lastErrorAtMs", entry.backoff.lastErrorAtMs)
            ?? limits.past("circuit.probeAtMs", entry.circuit.probeAtMs)
    }

    /// Why `trip` cannot have been written by these rules before `nowMs`, or nil if it can.
    static func implausibility(of trip: SeriesTrip, at nowMs: Int64, config: HealthConfig) -> String? {
        Limits(nowMs: nowMs, config: config).deadline("untilMs", trip.untilMs)
    }

    /// The latest deadline and the latest past time a record may hold now.
    private struct Limits {
        let nowMs: Int64
        let config: HealthConfig
        let latestDeadline: Int64
        let latestPast: Int64

        init(nowMs: Int64, config: HealthConfig) {
            self.nowMs = nowMs
            self.config = config
            latestDeadline = HostTime.deadline(nowMs, plus: config.longestDeadlineMs.addingSaturating(marginMs))
            latestPast = HostTime.deadline(nowMs, plus: marginMs)
        }

        func deadline(_ field: String, _ value: Int64?) -> String? {
            guard let value else { return nil }
            if let outside = outsideRange(field, value) { return outside }
            guard value > latestDeadline else { return nil }
            return "\(field) \(value) is more than \(hours(config.longestDeadlineMs.addingSaturating(marginMs))) after now "
                + "(\(nowMs)), further than any rule sets a deadline"
        }

        func past(_ field: String, _ value: Int64?) -> String? {
            guard let value else { return nil }
            if let outside = outsideRange(field, value) { return outside }
            guard value > latestPast else { return nil }
            return "\(field) \(value) is more than \(hours(marginMs)) after now (\(nowMs)): a time that has not come"
        }

        private func outsideRange(_ field: String, _ value: Int64) -> String? {
            HostTime.validMs.contains(value) ? nil : "\(field) \(value) is outside the clock's range \(HostTime.rangeText)"
        }
    }

    fileprivate static func hours(_ ms: Int64) -> String {
        ms % 3_600_000 == 0 ? "\(ms / 3_600_000) h" : "\(ms) ms"
    }
}
