import Foundation
import ModuleSupport

/// A time zone's UTC offsets, as the schedule needs them: the offset at an instant, and the
/// instants a wall-clock time has (none in a forward gap, two in a repeated hour).
public struct CronZone: Sendable {
    public let timeZone: TimeZone
    /// No transitions at all (UTC, a fixed offset): every wall-clock time is one instant.
    let fixedOffset: Int64?

    public init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
        let utc = ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Universal", "Zulu"].contains(timeZone.identifier)
        fixedOffset = utc ? 0 : nil
    }

    /// An IANA name (`Europe/Berlin`), or nil when Foundation does not know it.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.init(zone)
    }

    func offset(at instant: Int64) -> Int64 {
        if let fixedOffset { return fixedOffset }
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The instants (seconds) of the wall-clock time `civil`: the first, and the second of a
    /// repeated hour. A time in a forward gap has none: `first` is then the gap's end.
    func instants(ofCivil civil: Int64) -> (first: Int64, second: Int64?) {
        if let fixedOffset { return (civil - fixedOffset, nil) }
        // Offsets lie within -12 h and +14 h: these two probes see both sides of a transition.
        let early = offset(at: civil - 50_400), late = offset(at: civil + 50_400)
        let atEarly = civil - early, atLate = civil - late
        let earlyValid = offset(at: atEarly) == early
        if early == late { return (atEarly, nil) }
        let lateValid = offset(at: atLate) == late
        switch (earlyValid, lateValid) {
        case (true, true): return (min(atEarly, atLate), max(atEarly, atLate))
        case (true, false): return (atEarly, nil)
        case (false, true): return (atLate, nil)
        case (false, false):
            // A gap: the offset changes from `early` to `late` in (atLate, atEarly].
            var low = min(atLate, atEarly), high = max(atLate, atEarly)
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if offset(at: middle) == early { low = middle } else { high = middle }
            }
            return (high, nil)
        }
    }
}

extension CronSchedule {
    /// The next fire time (ms) strictly after `afterMs` in `zone`, by MODULES.md's DST rule: a
    /// time skipped by a forward jump fires when the gap ends; in a repeated hour a job with a
    /// fixed hour fires in the first occurrence, an every-hour job (`everyHour`) in both.
    /// Nil when the schedule never fires again (within 400 years).
    public func next(after afterMs: Int64, in zone: CronZone) -> Int64? {
        let from = CivilTime.floorDiv(afterMs, 1000)
        let offset = zone.offset(at: from)
        // A clock going back within the next 3 hours repeats wall-clock times before now's.
        let back = zone.fixedOffset == nil ? max(0, offset - zone.offset(at: from + 10_800)) : 0
        var civil = from + offset - back
        var best: Int64?
        // First instants grow with the wall-clock time: once one passes the best, stop.
        while let candidate = nextCivil(after: civil) {
            let instants = zone.instants(ofCivil: candidate)
            if let best, instants.first >= best { break }
            if instants.first > from {
                best = instants.first
            } else if everyHour, let second = instants.second, second > from {
                best = min(best ?? second, second)
            }
            civil = candidate
        }
        return best.map { $0 * 1000 }
    }

    /// The next `count` fire times after `afterMs` (fewer when the schedule ends).
    public func preview(after afterMs: Int64, count: Int, in zone: CronZone) -> [Int64] {
        var runs: [Int64] = []
        var from = afterMs
        while runs.count < count, let next = next(after: from, in: zone) {
            runs.append(next)
            from = next
        }
        return runs
    }
}
