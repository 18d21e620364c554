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
/// `consumer/<name>` (a cursor), `meta/queue` (`QueueMeta`: the next task number and cursor, so
/// neither is ever reused).
public struct TaskEngine: ModuleEngine {
    public typealias Effects = TaskEffects

    /// What a hot swap carries over. Optional fields: a state from a version without them
    /// (1.0.0 had none) imports as empty.
    public struct State: Codable, Sendable {
        public var tasks: [QueuedTask]?
        public var results: [ResultEntry]?
        public var consumers: [String: Int64]?
        public var meta: QueueMeta?
    }

    /// The zone of a schedule that names none: the host's (its `TZ`).
    let defaultZone: CronZone
    let limits: QueueBook.Limits
    var queue = QueueBook()
    var results: ResultLog
    /// Tasks whose call this instance made and waits for (not carried over: after a restart or
    /// a swap no call is under way, and a task still `running` was interrupted).
    var inFlight: Set<String> = []

    public init(config: TaskConfig, defaultZone: TimeZone) {
        self.defaultZone = CronZone(defaultZone)
        limits = QueueBook.Limits(concurrency: config.concurrency ?? 3, groups: config.groups ?? [:])
        results = ResultLog(keep: config.resultsKept ?? 100)
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
        guard let name else { return defaultZone }
        guard name.utf8.count <= 64, let zone = CronZone(identifier: name) else {
            throw .invalidInput("timezone \(CronField.quoted(name[...])) is not an IANA time zone name (such as Europe/Berlin or UTC)")
        }
        return zone
    }

    // MARK: - The kit

    public var nextWakeMs: Int64? {
        [queue.nextDue(limits), queue.nextDeadline, results.nextWaiterDeadline].compactMap { $0 }.min()
    }

    public mutating func wake(at nowMs: Int64, effects: inout TaskEffects) {
        expireAttempts(at: nowMs, effects: &effects)
        expireWaiters(at: nowMs, effects: &effects)
        pump(at: nowMs, effects: &effects)
    }

    public mutating func released(_ calls: [PendingCallID], effects: inout TaskEffects) {
        let gone = Set(calls)
        results.waiters.removeAll { gone.contains($0.call) }
    }

    /// A task reached a terminal state (succeeded, failed, canceled): `task.outcome` says how,
    /// `task.origin` where it came from. Jobs record their runs here and apply `overlap`.
    mutating func taskEnded(_ task: QueuedTask, at nowMs: Int64, effects: inout TaskEffects) {
        guard task.origin != nil else { return }
    }

    public func exportState() -> State {
        State(tasks: queue.tasks.values.sorted { $0.seq < $1.seq }, results: results.entries, consumers: results.consumers,
              meta: meta)
    }

    public mutating func importState(_ state: State) {
        queue = QueueBook()
        results = ResultLog(keep: results.keep)
        inFlight = []
        load(tasks: state.tasks ?? [], results: state.results ?? [], consumers: state.consumers ?? [:], meta: state.meta)
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

    public init(concurrency: Int? = nil, groups: [String: Int]? = nil, resultsKept: Int? = nil) {
        self.concurrency = concurrency
        self.groups = groups
        self.resultsKept = resultsKept
    }

    /// What is wrong with it, if anything (the load fails with this).
    public func problem() -> String? {
        if let concurrency, !(1...1000).contains(concurrency) { return "task.concurrency must be 1 to 1000, got \(concurrency)" }
        for (name, limit) in (groups ?? [:]).sorted(by: { $0.key < $1.key }) where !(1...1000).contains(limit) {
            return "task.groups[\"\(name)\"] must be 1 to 1000, got \(limit)"
        }
        if let resultsKept, !(1...1_000_000).contains(resultsKept) { return "task.resultsKept must be 1 to 1000000, got \(resultsKept)" }
        return nil
    }
}
