import ModHostJSON

/// A job as `task.list` (and `task.register`, `task.enable`, `task.disable`) shows it.
public struct JobView: Codable, Sendable, Equatable {
    public var name: String
    public var schedule: String
    public var timezone: String?
    public var call: JobCall?
    public var publish: JobPublish?
    public var overlap: JobOverlap
    public var misfire: JobMisfire
    public var enabled: Bool
    public var timeoutMs: Int64
    /// A default job (config sets it).
    public var isDefault: Bool
    public var nextRunAt: Int64?
    /// The latest run (any status), and the end of the latest that ended.
    public var lastRun: JobRun?
    public var lastResult: JobResult?
    /// Runs active in the queue, and waiting their turn.
    public var active: Int
    public var waiting: Int
    /// The last 20 runs, newest first.
    public var runs: [JobRun]

    enum CodingKeys: String, CodingKey {
        case name, schedule, timezone, call, publish, overlap, misfire, enabled, timeoutMs, isDefault = "default"
        case nextRunAt, lastRun, lastResult, active, waiting, runs
    }
}

/// `task.list {name?}`.
public struct ListRequest: Codable, Sendable {
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

public struct ListAnswer: Codable, Sendable, Equatable {
    public var jobs: [JobView]
}

/// `task.enable`, `task.disable`, `task.remove`, `task.runNow`: `{name}`.
public struct JobName: Codable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// `task.runNow`'s answer: the run (`pending` with its task id, `queued` or `skipped`).
public struct RunNowAnswer: Codable, Sendable, Equatable {
    public var name: String
    public var run: JobRun
}

/// `task.remove`'s answer.
public struct RemoveAnswer: Codable, Sendable, Equatable {
    public var removed: Bool
}

extension JobBook {
    /// The job named, as listed.
    public func view(_ name: String) -> JobView? {
        guard let job = jobs[name] else { return nil }
        let record = job.record, definition = record.definition
        return JobView(
            name: definition.name, schedule: definition.schedule, timezone: definition.timezone, call: definition.call,
            publish: definition.publish, overlap: definition.overlap, misfire: definition.misfire, enabled: definition.enabled,
            timeoutMs: definition.timeoutMs ?? JobDefinition.defaultTimeoutMs, isDefault: definition.isDefault, nextRunAt: job.nextAt, lastRun: record.history.last, lastResult: record.lastResult,
            active: record.active.count, waiting: record.waiting.count, runs: record.history.reversed())
    }
}
