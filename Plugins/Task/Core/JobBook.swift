import ModHostJSON
import ModuleSupport

/// The jobs (MODULES.md, task): cron schedules that submit queue tasks. Pure: time comes in as
/// `now`, store writes and log lines go into `effects`, and what must be submitted comes back
/// as `JobFire`s, which the engine hands to the queue and reports back (`submitted`, `ended`;
/// `task.list` shows a run `running` from its queue task).
///
/// A job is due when a scheduled time in (`evaluatedAt`, now] exists; `takeDue` looks at the
/// jobs whose next time came (a heap), so a wake costs what fires, not the number of jobs.
/// Runs older than the grace (`graceMs`) at that moment were missed (downtime, a clock jump
/// forward) and `misfire` decides which run; a clock gone back by more than
/// `backJumpResetMs` restarts every schedule from the new time (Vixie cron), a smaller step
/// back repeats nothing: the jobs wait until their next time comes.
public struct JobBook: Sendable {
    public static let historyLimit = 20
    /// Runs that may wait for the job's previous one (`overlap: queue`); more are skipped.
    public static let maxWaiting = 10
    /// The most missed runs `misfire: all` runs.
    public static let maxMisfireRuns = 10
    /// A step back of the clock larger than this restarts the schedules from the new time.
    public static let backJumpResetMs: Int64 = 3 * 3_600_000

    struct Job: Sendable {
        var record: JobRecord
        let schedule: CronSchedule
        let zone: CronZone
        /// The first scheduled time after `evaluatedAt`; nil while disabled.
        var nextAt: Int64?
        var name: String { record.definition.name }
        var definition: JobDefinition { record.definition }
    }

    var jobs: [String: Job] = [:]
    /// Task id → the job whose run it is.
    var tasks: [String: String] = [:]
    /// Jobs' next times, by name; an entry no longer its job's `nextAt` is dropped when it comes up.
    var heap = DeadlineHeap<String>()
    /// The latest time any operation evaluated at (a step back is measured from it).
    var lastSeen: Int64 = .min
    let graceMs: Int64
    let maxJobs: Int
    let defaultZone: CronZone
    /// Default jobs' names: set by config, not by `task.register` or `task.remove`.
    var defaultNames: Set<String> = []

    public init(graceMs: Int64 = 60_000, maxJobs: Int = 100_000, defaultZone: CronZone) {
        self.graceMs = graceMs
        self.maxJobs = maxJobs
        self.defaultZone = defaultZone
    }

    /// The next time a job is due, if any is enabled.
    public var nextWakeMs: Int64? { heap.first?.atMs }
    public var count: Int { jobs.count }

    // MARK: - Methods

    /// `task.register`: a new job, or the job of that name with a new definition (its history,
    /// active runs and count kept). Its schedule starts from now.
    public mutating func register(_ request: RegisterRequest, at now: Int64, effects: inout ModuleEffectList) throws(ModuleFailure) -> JobView {
        if defaultNames.contains(request.name) {
            throw .invalidInput("name \(CronField.quoted(request.name[...])) is a default job: change it in the task section of --config (defaultJobs), or task.enable / task.disable it")
        }
        let definition = try JobDefinition(request)
        let (schedule, zone) = try parse(definition)
        guard jobs[definition.name] != nil || jobs.count < maxJobs else {
            throw .reason("too_many_jobs", "\(maxJobs) jobs are registered, the most the task config (maxJobs) allows: remove one first")
        }
        put(definition, schedule: schedule, zone: zone, at: now, effects: &effects)
        return view(definition.name)!
    }

    /// `task.enable`: the schedule starts from now (runs while disabled are not missed ones).
    public mutating func enable(_ name: String, at now: Int64, effects: inout ModuleEffectList) throws(ModuleFailure) -> JobView {
        var job = try existing(name)
        if !job.definition.enabled {
            job.record.definition.enabled = true
            job.record.evaluatedAt = now
            job.nextAt = job.schedule.next(after: now, in: job.zone)
            store(job, effects: &effects)
        }
        return view(name)!
    }

    /// `task.disable`: no more scheduled runs; runs waiting their turn are skipped, active ones go on.
    public mutating func disable(_ name: String, at now: Int64, effects: inout ModuleEffectList) throws(ModuleFailure) -> JobView {
        var job = try existing(name)
        if job.definition.enabled {
            job.record.definition.enabled = false
            job.nextAt = nil
            for waiting in job.record.waiting {
                job.update(waiting.run) { $0.status = .skipped; $0.finishedAt = now; $0.note = "the job was disabled" }
            }
            job.record.waiting = []
            store(job, effects: &effects)
        }
        return view(name)!
    }

    /// `task.remove`: the job and its record are gone; its active tasks finish in the queue.
    public mutating func remove(_ name: String, effects: inout ModuleEffectList) throws(ModuleFailure) -> Bool {
        if defaultNames.contains(name) {
            throw .invalidInput("name \(CronField.quoted(name[...])) is a default job: disable it (task.disable) or configure it (task config defaultJobs)")
        }
        guard let job = jobs.removeValue(forKey: name) else { return false }
        for active in job.record.active { if let id = active.taskId { tasks[id] = nil } }
        effects.delete(Self.key(name))
        trimHeap()
        return true
    }

    /// `task.runNow`: a run now, enabled or not, under the job's `overlap` (it may wait or be
    /// skipped). Nil when it did not start.
    public mutating func runNow(_ name: String, at now: Int64, effects: inout ModuleEffectList) throws(ModuleFailure) -> (run: JobRun, fire: JobFire?) {
        var job = try existing(name)
        let fire = job.offer(scheduledAt: now, trigger: .manual, note: nil, at: now)
        store(job, effects: &effects)
        return (job.record.history.last!, fire)
    }

    /// `task.list`: every job by name, or the one named.
    public func list(_ request: ListRequest) throws(ModuleFailure) -> ListAnswer {
        if let name = request.name {
            return ListAnswer(jobs: [try view(existing(name).name)!])
        }
        return ListAnswer(jobs: jobs.keys.sorted().map { view($0)! })
    }

    // MARK: - Time

    /// The runs due at `now`, every job whose time came, by `misfire` and `overlap`, each
    /// recorded as `pending` (or `queued`, `skipped`): hand each to the queue, then `submitted`.
    public mutating func takeDue(at now: Int64, effects: inout ModuleEffectList) -> [JobFire] {
        noteTime(now, effects: &effects)
        var fires: [JobFire] = []
        while let first = heap.first, first.atMs <= now {
            heap.popFirst()
            guard var job = jobs[first.target], job.nextAt == first.atMs else { continue }
            fires += job.evaluate(at: now, graceMs: graceMs)
            store(job, effects: &effects)
        }
        trimHeap()
        return fires.sorted { ($0.scheduledAt, $0.name, $0.run) < ($1.scheduledAt, $1.name, $1.run) }
    }

    /// A step back of more than `backJumpResetMs` restarts every schedule from `now`.
    mutating func noteTime(_ now: Int64, effects: inout ModuleEffectList) {
        defer { lastSeen = max(lastSeen, now) }
        guard lastSeen != .min, now < lastSeen - Self.backJumpResetMs else { return }
        let step = lastSeen - now
        effects.log(.info, "the clock went back \(step / 60_000) min (more than 3 h): job schedules start again from now")
        lastSeen = now
        for name in jobs.keys where jobs[name]!.definition.enabled {
            var job = jobs[name]!
            job.record.evaluatedAt = now - 1  // a run due exactly now fires
            job.nextAt = job.schedule.next(after: now - 1, in: job.zone)
            store(job, effects: &effects)
        }
    }

    // MARK: - The queue's reports

    /// The queue took `fire` as task `taskId`.
    public mutating func submitted(_ fire: JobFire, taskId: String, effects: inout ModuleEffectList) {
        guard var job = jobs[fire.name], let index = job.record.active.firstIndex(where: { $0.run == fire.run }) else { return }
        job.record.active[index].taskId = taskId
        job.update(fire.run) { $0.taskId = taskId }
        tasks[taskId] = fire.name
        store(job, effects: &effects)
    }

    /// The queue refused `fire`: the run failed; a run waiting its turn may start (returned).
    public mutating func submitFailed(_ fire: JobFire, _ message: String, at now: Int64, effects: inout ModuleEffectList) -> [JobFire] {
        guard var job = jobs[fire.name] else { return [] }
        job.record.active.removeAll { $0.run == fire.run }
        job.update(fire.run) { $0.status = .failed; $0.finishedAt = now; $0.note = message }
        let next = job.releaseWaiting(at: now)
        store(job, effects: &effects)
        return next.map { [$0] } ?? []
    }

    /// Task `taskId` ended: its run is recorded, and a run waiting its turn starts (returned).
    /// A default job's call to a module that is not loaded (-32601, or -32001 unavailable) is a
    /// `skipped` run, logged at debug only.
    public mutating func ended(_ taskId: String, _ outcome: JobOutcome, at now: Int64, effects: inout ModuleEffectList) -> [JobFire] {
        guard let name = tasks.removeValue(forKey: taskId), var job = jobs[name],
              let active = job.record.active.first(where: { $0.taskId == taskId }) else { return [] }
        job.record.active.removeAll { $0.run == active.run }
        // -32601: no such method or module; -32001: the module is unavailable (unloaded).
        let absent = job.definition.isDefault && (outcome.errorCode == -32601 || outcome.errorCode == -32001)
        let ended: JobRunStatus = switch outcome.status {
        case .succeeded: .succeeded
        case .failed: .failed
        case .canceled: .canceled
        }
        let status = absent ? .skipped : ended
        let note = absent ? "its module is not loaded" : outcome.errorMessage
        if absent { effects.log(.debug, "job \(name): \(job.definition.call?.method ?? "") is not served (its module is not loaded): skipped") }
        job.update(active.run) { run in
            run.status = status
            run.startedAt = run.startedAt ?? outcome.startedAt
            run.finishedAt = now
            run.note = note ?? run.note
        }
        let error = outcome.status == .succeeded ? nil : JobError(code: outcome.errorCode, message: outcome.errorMessage ?? "\(status)")
        job.record.lastResult = JobResult(run: active.run, status: status, finishedAt: now, result: Self.capped(outcome.result), error: error)
        let next = job.releaseWaiting(at: now)
        store(job, effects: &effects)
        return next.map { [$0] } ?? []
    }

    /// The longest result `lastResult` keeps, as JSON text (the record is written on every run).
    public static let maxResultBytes = 8_192

    static func capped(_ result: JSONValue?) -> JSONValue? {
        guard let result else { return nil }
        let size = result.jsonBytes.count
        return size <= maxResultBytes ? result : ["truncated": true, "bytes": .int(Int64(size))]
    }

    /// Job `name`'s run limit.
    public func timeoutMs(_ name: String) -> Int64 {
        jobs[name]?.definition.timeoutMs ?? JobDefinition.defaultTimeoutMs
    }

    /// Whether job `name` is a default job.
    public func isDefault(_ name: String) -> Bool {
        jobs[name]?.definition.isDefault ?? false
    }

    // MARK: - Records

    static func key(_ name: String) -> String { "job/\(name)" }

    func parse(_ definition: JobDefinition) throws(ModuleFailure) -> (CronSchedule, CronZone) {
        (try TaskEngine.schedule(definition.schedule), try CronZone.named(definition.timezone, default: defaultZone))
    }

    /// Sets `definition` under its name, history kept; its schedule starts from `now`.
    mutating func put(_ definition: JobDefinition, schedule: CronSchedule, zone: CronZone, at now: Int64, effects: inout ModuleEffectList) {
        var record = jobs[definition.name]?.record
            ?? JobRecord(definition: definition, evaluatedAt: now, history: [], waiting: [], active: [], runs: 0, lastResult: nil)
        record.definition = definition
        record.evaluatedAt = now
        lastSeen = max(lastSeen, now)
        let job = Job(record: record, schedule: schedule, zone: zone,
                      nextAt: definition.enabled ? schedule.next(after: now, in: zone) : nil)
        store(job, effects: &effects)
    }

    /// Runs waiting under `overlap: queue` with nothing ahead of them any more (the run ahead was
    /// lost in a crash before it reached the queue, and `load` failed it): started now, so the
    /// job is not stuck behind them for good.
    public mutating func releaseStranded(at now: Int64, effects: inout ModuleEffectList) -> [JobFire] {
        var fires: [JobFire] = []
        for name in jobs.keys.sorted() {
            guard var job = jobs[name], let fire = job.releaseWaiting(at: now) else { continue }
            fires.append(fire)
            store(job, effects: &effects)
        }
        return fires
    }

    /// Keeps `job` in memory and in the store, its next time on the heap.
    mutating func store(_ job: Job, effects: inout ModuleEffectList) {
        if let next = job.nextAt, jobs[job.name]?.nextAt != next { heap.insert(next, job.name) }
        jobs[job.name] = job
        effects.put(Self.key(job.name), encoding: job.record)
        trimHeap()
    }

    /// Drops heap entries that no longer are their job's next time, so `nextWakeMs` is exact.
    mutating func trimHeap() {
        while let first = heap.first, jobs[first.target]?.nextAt != first.atMs { heap.popFirst() }
    }

    func existing(_ name: String) throws(ModuleFailure) -> Job {
        guard let job = jobs[name] else {
            throw .reason("job_not_found", "no job named \(CronField.quoted(name[...])) (task.list lists them)")
        }
        return job
    }
}

extension CronZone {
    /// An IANA zone, or `fallback` when nil; -32602 naming `timezone` when unknown.
    static func named(_ name: String?, default fallback: CronZone?) throws(ModuleFailure) -> CronZone {
        guard let name else { return fallback ?? CronZone(identifier: "UTC")! }
        guard name.utf8.count <= 64, let zone = CronZone(identifier: name) else {
            throw .invalidInput("timezone \(CronField.quoted(name[...])) is not an IANA time zone name (such as Europe/Berlin or UTC)")
        }
        return zone
    }
}
