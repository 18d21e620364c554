/// One job's runs: which scheduled times are due (and which of them were missed), `misfire`,
/// `overlap`, the history of the last 20.
extension JobBook.Job {
    /// The most scheduled times one evaluation counts one by one; past it the latest runs are
    /// found by windows back from now (a per-second job after a week of downtime).
    static let countLimit = 10_000

    /// The runs due at `now`: the scheduled times in (`evaluatedAt`, now]. The latest is on
    /// time if it is at most `graceMs` old, every other one was missed; `misfire` picks:
    /// `once` one run for all of them, `all` each (the latest 10, one after another unless
    /// `overlap: allow`), `skip` the one on time only (the missed ones are one `skipped`
    /// entry). Then the schedule goes on from now.
    mutating func evaluate(at now: Int64, graceMs: Int64) -> [JobFire] {
        defer {
            record.evaluatedAt = now
            nextAt = definition.enabled ? schedule.next(after: now, in: zone) : nil
        }
        let keep = definition.misfire == .all ? JobBook.maxMisfireRuns : 1
        let (count, latest) = dueTimes(after: record.evaluatedAt, upTo: now, keep: keep)
        guard let last = latest.last else { return [] }
        let onTime = now - last <= graceMs
        let missed = onTime ? count - 1 : count
        let counted = count > Self.countLimit ? "more than \(Self.countLimit)" : "\(count)"
        var fires: [JobFire] = []
        switch definition.misfire {
        case .once:
            let note = count > 1 ? "one run for \(counted) due runs (misfire: once)" : onTime ? nil : "late by \((now - last) / 1000) s (misfire: once)"
            fires += offer(scheduledAt: last, trigger: missed > 0 ? .misfire : .schedule, note: note, at: now).map { [$0] } ?? []
        case .all:
            let dropped = count - latest.count
            for (index, time) in latest.enumerated() {
                let current = onTime && time == last
                let droppedText = count > Self.countLimit ? counted : "\(dropped)"
                let note = index == 0 && dropped > 0 ? "\(droppedText) older missed runs not run (misfire: all runs the latest \(JobBook.maxMisfireRuns))" : nil
                // Missed runs run one after another (or at once with `overlap: allow`), never skipped by overlap.
                let overlap: JobOverlap = definition.overlap == .allow ? .allow : .queue
                fires += offer(scheduledAt: time, trigger: current ? .schedule : .misfire, note: note, overlap: overlap, at: now)
                    .map { [$0] } ?? []
            }
        case .skip:
            if missed > 0 {
                let missedText = count > Self.countLimit ? counted : "\(missed)"
                let latestMissed = onTime ? (count > 1 ? lastMissed(before: last) : last) : last
                append(JobRun(run: nextRun(), scheduledAt: latestMissed, trigger: .misfire, status: .skipped, finishedAt: now,
                              note: "\(missedText) missed runs not run (misfire: skip)"))
            }
            if onTime { fires += offer(scheduledAt: last, trigger: .schedule, note: nil, at: now).map { [$0] } ?? [] }
        }
        return fires
    }

    /// A run at `scheduledAt` under `overlap`: started (a fire to submit) unless a previous run
    /// is active; then `skip` records it skipped, `queue` lets it wait, `allow` starts it anyway.
    mutating func offer(scheduledAt: Int64, trigger: JobTrigger, note: String?, overlap: JobOverlap? = nil, at now: Int64) -> JobFire? {
        let overlap = overlap ?? definition.overlap
        let run = nextRun()
        if record.active.isEmpty && record.waiting.isEmpty || overlap == .allow {
            return start(JobWaiting(run: run, scheduledAt: scheduledAt, trigger: trigger), note: note)
        }
        let busy = record.active.first.map { "run \($0.run)" } ?? "an earlier run"
        if overlap == .queue, record.waiting.count < JobBook.maxWaiting {
            record.waiting.append(JobWaiting(run: run, scheduledAt: scheduledAt, trigger: trigger))
            append(JobRun(run: run, scheduledAt: scheduledAt, trigger: trigger, status: .queued, note: note ?? "waits for \(busy) (overlap: queue)"))
            return nil
        }
        let why = overlap == .queue
            ? "\(JobBook.maxWaiting) runs wait already (overlap: queue)" : "\(busy) is still pending or running (overlap: skip)"
        append(JobRun(run: run, scheduledAt: scheduledAt, trigger: trigger, status: .skipped, finishedAt: now, note: why))
        return nil
    }

    /// The first waiting run, started once no run is active.
    mutating func releaseWaiting(at now: Int64) -> JobFire? {
        guard record.active.isEmpty, !record.waiting.isEmpty else { return nil }
        let waiting = record.waiting.removeFirst()
        return start(waiting, note: nil)
    }

    private mutating func start(_ run: JobWaiting, note: String?) -> JobFire {
        record.active.append(JobActive(run: run.run, taskId: nil))
        if record.history.contains(where: { $0.run == run.run }) {
            update(run.run) { $0.status = .pending; $0.note = note }
        } else {
            append(JobRun(run: run.run, scheduledAt: run.scheduledAt, trigger: run.trigger, status: .pending, note: note))
        }
        return JobFire(name: name, run: run.run, scheduledAt: run.scheduledAt, trigger: run.trigger, target: definition.target)
    }

    mutating func nextRun() -> Int {
        record.runs += 1
        return record.runs
    }

    mutating func append(_ run: JobRun) {
        record.history.append(run)
        if record.history.count > JobBook.historyLimit { record.history.removeFirst(record.history.count - JobBook.historyLimit) }
    }

    /// Changes run `run` in the history, if it is still among the last 20.
    mutating func update(_ run: Int, _ change: (inout JobRun) -> Void) {
        guard let index = record.history.lastIndex(where: { $0.run == run }) else { return }
        change(&record.history[index])
    }

    /// How many scheduled times lie in (`from`, `to`] (counted up to `countLimit`, one more
    /// meaning more) and the latest `keep` of them, oldest first.
    func dueTimes(after from: Int64, upTo to: Int64, keep: Int) -> (count: Int, latest: [Int64]) {
        guard from < to else { return (0, []) }
        var count = 0
        var latest: [Int64] = []
        var cursor = from
        while let time = schedule.next(after: cursor, in: zone), time <= to {
            count += 1
            latest.append(time)
            if latest.count > keep { latest.removeFirst() }
            guard count <= Self.countLimit else { return (count, latestTimes(after: from, upTo: to, keep: keep)) }
            cursor = time
        }
        return (count, latest)
    }

    /// The latest `keep` scheduled times in (`from`, `to`], found in windows back from `to`,
    /// each four times the last (one minute first).
    private func latestTimes(after from: Int64, upTo to: Int64, keep: Int) -> [Int64] {
        var window: Int64 = 60_000
        while true {
            let start = max(from, to - window)
            var times: [Int64] = []
            var cursor = start
            while let time = schedule.next(after: cursor, in: zone), time <= to {
                times.append(time)
                if times.count > keep { times.removeFirst() }
                cursor = time
            }
            if times.count >= keep || start == from { return times }
            window = window > Int64.max / 8 ? Int64.max / 2 : window * 4
        }
    }

    /// The scheduled time before `time` (for the skipped entry of `misfire: skip`).
    private func lastMissed(before time: Int64) -> Int64 {
        latestTimes(after: record.evaluatedAt, upTo: time - 1, keep: 1).last ?? time
    }
}
