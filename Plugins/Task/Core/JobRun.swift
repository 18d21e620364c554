import ModHostJSON

/// Where a run stands. `queued` waits for the job's previous run (`overlap: queue`); `pending`
/// and `running` are its queue task's states; the rest are ends.
public enum JobRunStatus: String, Codable, Sendable {
    case queued, pending, running, succeeded, failed, canceled, skipped

    public var isActive: Bool { self == .pending || self == .running }
}

/// Why a run exists: its scheduled time came, it stands for runs missed (`misfire`), or `task.runNow`.
public enum JobTrigger: String, Codable, Sendable {
    case schedule, misfire, manual
}

/// One run of a job, as `task.list` shows the last 20.
public struct JobRun: Codable, Sendable, Equatable {
    /// The job's own count of runs, from 1: names a run across restarts.
    public var run: Int
    public var scheduledAt: Int64
    public var trigger: JobTrigger
    public var status: JobRunStatus
    public var taskId: String?
    public var startedAt: Int64?
    public var finishedAt: Int64?
    /// Why it was skipped, how many runs it stands for, or the error.
    public var note: String?
}

/// How a run's queue task ended, as the queue reports it.
public struct JobOutcome: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        case succeeded, failed, canceled
    }

    public var status: Status
    public var result: JSONValue?
    /// The JSON-RPC error code of a failure (-32601: no such method, say).
    public var errorCode: Int?
    public var errorMessage: String?
    public var startedAt: Int64?

    public init(status: Status, result: JSONValue? = nil, errorCode: Int? = nil, errorMessage: String? = nil, startedAt: Int64? = nil) {
        (self.status, self.result, self.errorCode, self.errorMessage, self.startedAt) = (status, result, errorCode, errorMessage, startedAt)
    }
}

/// `lastResult` in `task.list`: the end of the latest run that ended.
public struct JobResult: Codable, Sendable, Equatable {
    public var run: Int
    public var status: JobRunStatus
    public var finishedAt: Int64
    public var result: JSONValue?
    public var error: JobError?
}

public struct JobError: Codable, Sendable, Equatable {
    public var code: Int?
    public var message: String
}

/// What a job's store record `job/<name>` holds: enough to go on after kill -9 exactly where it was.
public struct JobRecord: Codable, Sendable {
    public var definition: JobDefinition
    /// Runs up to this time were looked at: runs after it and up to now are due (or missed).
    public var evaluatedAt: Int64
    /// The last 20 runs, oldest first.
    public var history: [JobRun]
    /// Runs waiting for the previous one (`overlap: queue`): their scheduled times and triggers.
    public var waiting: [JobWaiting]
    /// Runs whose queue task is pending or running.
    public var active: [JobActive]
    public var runs: Int
    public var lastResult: JobResult?
}

/// A run handed to the queue and not ended: its task id once submitted.
public struct JobActive: Codable, Sendable, Equatable {
    public var run: Int
    public var taskId: String?
}

/// A run waiting its turn (`overlap: queue`).
public struct JobWaiting: Codable, Sendable, Equatable {
    public var run: Int
    public var scheduledAt: Int64
    public var trigger: JobTrigger
}

/// A run to hand to the queue: the engine submits it and tells the book its task id (`submitted`).
public struct JobFire: Sendable, Equatable {
    public var name: String
    public var run: Int
    public var scheduledAt: Int64
    public var trigger: JobTrigger
    public var target: TaskTarget
}
