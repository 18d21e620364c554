import Foundation
import ModHostJSON
import ModuleSupport

/// The task module's rules: cron schedules in time zones (`task.preview`), the persistent
/// queue (`task.submit`, `task.cancel`, `task.get`: QueueEngine.swift) and its results
/// (`task.results`: ResultEngine.swift). Pure: time comes in as `nowMs`, what the plugin must
/// do afterwards goes into `effects` (the calls a task makes among them).
///
/// The queue's core API, which jobs build on (see Queue.swift's header): `submit(_:origin:at:effects:)`
/// with a `TaskSpec` (`TaskTarget` `.call` or `.publish`) and a `TaskOrigin?`; `taskEnded`, called
/// once per task reaching a terminal state.
///
/// Store records: `task/<id>` (`QueuedTask`), `result/<cursor, 20 digits>` (`ResultEntry`),
/// `consumer/<name>` (a cursor), `meta/queue` (`QueueMeta`: the next task number and cursor,
/// written when compaction deletes records, so neither is ever reused).
public struct TaskEngine: ModuleEngine {
    public typealias Effects = TaskEffects

    /// What a hot swap carries over. Optional fields: a state from a version without them
    /// (1.0.0 had none) imports as empty.
    public struct State: Codable, Sendable {
        public var tasks: [QueuedTask]?
        public var results: [ResultEntry]?
        public var consumers: [String: Int64]?
        public var meta: QueueMeta?
        /// The jobs (nil from a version without them).
        public var jobs: JobBook.State?
    }

    /// The zone of a schedule that names none: the host's (its `TZ`).
    let defaultZone: CronZone
    let limits: QueueBook.Limits
    var queue = QueueBook()
    var results: ResultLog
    /// Tasks whose call this instance made and waits for (not carried over: after a restart or
    /// a swap no call is under way, and a task still `running` was interrupted).
    var inFlight: Set<String> = []
    /// The cron jobs (TaskEngine+Jobs.swift), and the default jobs as config has them.
    var jobs: JobBook
    let defaultJobs: [JobDefaults.Configured]
    /// While job runs are submitted: a job's task ending meanwhile waits in `endedEarly`.
    var submittingJobs = false
    var endedEarly: [QueuedTask] = []

    public init(config: TaskConfig, defaultZone: TimeZone) {
        self.defaultZone = CronZone(defaultZone)
        limits = QueueBook.Limits(concurrency: config.concurrency ?? 3, groups: config.groups ?? [:])
        results = ResultLog(keep: config.resultsKept ?? 100)
        jobs = JobBook(graceMs: config.misfireGraceMs ?? 60_000, maxJobs: config.maxJobs ?? 100_000, defaultZone: self.defaultZone)
        defaultJobs = (try? JobDefaults.definitions(config.defaultJobs)) ?? []  // `problem()` refused a bad one
    }

    /// `task.preview`: the next `count` fire times strictly after `fromMs` (default now).
    public func preview(_ request: PreviewRequest, at nowMs: Int64) throws(ModuleFailure) -> PreviewAnswer {
        let count = request.count ?? 10
        guard (1...1000).contains(count) else { throw .invalidInput("count must be 1 to 1000, got \(count)") }
        let schedule = try Self.schedule(request.schedule)
        let zone = try zone(request.timezone)
        return PreviewAnswer(runs: schedule.preview(after: request.fromMs ?? nowMs, count: count, in: zone))
    }

    /// A schedule, or -32602 naming the field and position.
    static func schedule(_ text: String) throws(ModuleFailure) -> CronSchedule {
        guard text.utf8.count <= 200 else { throw .invalidInput("schedule must be at most 200 bytes long") }
        do {
            return try CronSchedule(text)
        } catch {
            throw .invalidInput("schedule \(CronField.quoted(text[...])): \(error)")
        }
    }

    /// An IANA zone, or the host's when nil.
    func zone(_ name: String?) throws(ModuleFailure) -> CronZone {
        try CronZone.named(name, default: defaultZone)
    }

    // MARK: - The kit

    public var nextWakeMs: Int64? {
        [queue.nextDue(limits), queue.nextDeadline, results.nextWaiterDeadline, jobs.nextWakeMs].compactMap { $0 }.min()
    }

    /// Early firings too: a clock stepped back shows at the next firing (the jobs' schedules
    /// restart after a large step back); everything `wake` does is only what is due.
    public var wakesOnEveryFiring: Bool { true }

    public mutating func wake(at nowMs: Int64, effects: inout TaskEffects) {
        expireAttempts(at: nowMs, effects: &effects)
        expireWaiters(at: nowMs, effects: &effects)
        pump(at: nowMs, effects: &effects)
        fireDueJobs(at: nowMs, effects: &effects)
    }

    public mutating func released(_ calls: [PendingCallID], effects: inout TaskEffects) {
        let gone = Set(calls)
        results.waiters.removeAll { gone.contains($0.call) }
    }

    /// A task reached a terminal state (succeeded, failed, canceled): `task.outcome` says how,
    /// `task.origin` where it came from. Jobs record their runs here and apply `overlap`.
    mutating func taskEnded(_ task: QueuedTask, at nowMs: Int64, effects: inout TaskEffects) {
        guard task.origin != nil else { return }
        jobEnded(task, at: nowMs, effects: &effects)
    }

    public func exportState() -> State {
        State(tasks: queue.tasks.values.sorted { $0.seq < $1.seq }, results: results.entries, consumers: results.consumers,
              meta: meta, jobs: jobs.exportState())
    }

    public mutating func importState(_ state: State) {
        queue = QueueBook()
        results = ResultLog(keep: results.keep)
        inFlight = []
        load(tasks: state.tasks ?? [], results: state.results ?? [], consumers: state.consumers ?? [:], meta: state.meta)
        jobs = JobBook(graceMs: jobs.graceMs, maxJobs: jobs.maxJobs, defaultZone: defaultZone)
        if let carried = state.jobs { jobs.importState(carried) }
    }

    /// What the last run stored (restore at start), or a swap handed over.
    public mutating func load(tasks: [QueuedTask], results entries: [ResultEntry], consumers: [String: Int64], meta: QueueMeta?) {
        for task in tasks { queue.put(task) }
        for entry in entries { results.restore(entry) }
        results.sortRestored()
        results.consumers = consumers
        if let meta {
            queue.nextSeq = max(queue.nextSeq, meta.nextTask)
            results.nextCursor = max(results.nextCursor, meta.nextCursor)
        }
    }

    var meta: QueueMeta { QueueMeta(nextTask: queue.nextSeq, nextCursor: results.nextCursor) }
}

/// `meta/queue`: the numbers never to reuse, kept even when every task and entry is gone.
public struct QueueMeta: Codable, Sendable, Equatable {
    public var nextTask: Int64
    public var nextCursor: Int64
}

/// `task.preview {schedule, timezone?, fromMs?, count (10)}`.
public struct PreviewRequest: Codable, Sendable {
    public var schedule: String
    public var timezone: String?
    public var fromMs: Int64?
    public var count: Int?
}

/// `task.preview`'s answer: the fire times, ms since the epoch.
public struct PreviewAnswer: Codable, Sendable, Equatable {
    public var runs: [Int64]
}

/// The `task` section of the host's `--config` file.
public struct TaskConfig: Decodable, Sendable {
    /// Tasks running at once (3).
    public var concurrency: Int?
    /// Per-group limits: `{"<group>": n}`.
    public var groups: [String: Int]?
    /// Results entries always kept (100): older ones go once every named consumer is past them.
    public var resultsKept: Int?
    /// Changes to the default jobs: `{"token-refresh": {"schedule": "*/5 * * * *", "enabled": false}}`.
    public var defaultJobs: [String: DefaultJobConfig]?
    /// A run older than this when its job is looked at was missed (60000).
    public var misfireGraceMs: Int64?
    /// The most jobs (100000).
    public var maxJobs: Int?

    public init(concurrency: Int? = nil, groups: [String: Int]? = nil, resultsKept: Int? = nil,
                defaultJobs: [String: DefaultJobConfig]? = nil, misfireGraceMs: Int64? = nil, maxJobs: Int? = nil) {
        self.concurrency = concurrency
        self.groups = groups
        self.resultsKept = resultsKept
        self.defaultJobs = defaultJobs
        self.misfireGraceMs = misfireGraceMs
        self.maxJobs = maxJobs
    }

    /// What is wrong with it, if anything (the load fails with this).
    public func problem() -> String? {
        if let concurrency, !(1...1000).contains(concurrency) { return "task.concurrency must be 1 to 1000, got \(concurrency)" }
        for (name, limit) in (groups ?? [:]).sorted(by: { $0.key < $1.key }) where !(1...1000).contains(limit) {
            return "task.groups[\"\(name)\"] must be 1 to 1000, got \(limit)"
        }
        if let resultsKept, !(1...1_000_000).contains(resultsKept) { return "task.resultsKept must be 1 to 1000000, got \(resultsKept)" }
        if let misfireGraceMs, !(1_000...86_400_000).contains(misfireGraceMs) {
            return "task.misfireGraceMs must be 1000 to 86400000, got \(misfireGraceMs)"
        }
        if let maxJobs, !(1...1_000_000).contains(maxJobs) { return "task.maxJobs must be 1 to 1000000, got \(maxJobs)" }
        do { _ = try JobDefaults.definitions(defaultJobs) } catch { return error.message }
        return nil
    }
}
