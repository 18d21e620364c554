import ModHostJSON
import ModuleSupport

// The queue's core API (issue 15, items 3-5), which the jobs build on:
//
// - `TaskTarget`: what a task does, `.call(method:params:)` (through the registry, with the
//   task's timeout as the call's deadline) or `.publish(topic:data:)` (jobs only: a publish
//   task succeeds once published). `task.submit` accepts only `call`.
// - `TaskOrigin?` on each task: nil for `task.submit`, `.job(name:scheduledAtMs:)` for a cron run.
// - `TaskSpec`: a validated submit (`SubmitRequest.spec(at:)` for `task.submit`; jobs build one).
// - `TaskEngine.submit(_:origin:at:effects:) throws(ModuleFailure) -> SubmitAnswer`.
// - `TaskEngine.taskEnded(_:at:effects:)`: called once when a task reaches a terminal state
//   (succeeded, failed, canceled), with the task (its `origin`, `status`, `outcome`): where jobs
//   record runs and apply `overlap`. It does nothing for origin nil.

/// What a task does when it runs.
public enum TaskTarget: Codable, Sendable, Equatable {
    /// Calls `method` (`"<module>.<method>"`) with `params` through the registry.
    case call(method: String, params: JSONValue?)
    /// Publishes `topic` with `data` (jobs): the task succeeds once published.
    case publish(topic: String, data: JSONValue?)

    /// The method or topic, for views and logs (never the params: they may hold secrets).
    public var name: String {
        switch self {
        case .call(let method, _): method
        case .publish(let topic, _): topic
        }
    }
}

/// Where a task came from: nil (not stored) for `task.submit`.
public enum TaskOrigin: Codable, Sendable, Equatable {
    /// A run of the cron job `name`, due at `scheduledAtMs`.
    case job(name: String, scheduledAtMs: Int64)

    public var jobName: String? {
        switch self {
        case .job(let name, _): name
        }
    }
}

public enum TaskStatus: String, Codable, Sendable, Equatable {
    case pending, running, succeeded, failed, canceled

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .canceled }
}

/// How long a retry waits: `fixed` waits `delayMs`; `exponential` waits
/// `delayMs * 2^(attempt-1)` after attempt `attempt` failed; both at most `maxDelayMs`.
public struct Backoff: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case fixed, exponential }
    public var type: Kind
    public var delayMs: Int64
    public var maxDelayMs: Int64

    public init(type: Kind = .fixed, delayMs: Int64 = 5_000, maxDelayMs: Int64 = 600_000) {
        self.type = type
        self.delayMs = delayMs
        self.maxDelayMs = maxDelayMs
    }

    /// The wait after attempt `attempt` (1-based) failed.
    public func delay(afterAttempt attempt: Int) -> Int64 {
        switch type {
        case .fixed:
            return min(delayMs, maxDelayMs)
        case .exponential:
            let shift = max(0, attempt - 1)
            guard shift < 62, delayMs > 0 else { return delayMs > 0 ? maxDelayMs : 0 }
            let (scaled, overflow) = delayMs.multipliedReportingOverflow(by: Int64(1) << Int64(shift))
            return overflow ? maxDelayMs : min(scaled, maxDelayMs)
        }
    }
}

/// A task to queue, validated.
public struct TaskSpec: Sendable, Equatable {
    public var target: TaskTarget
    /// When it may run first (host time, ms).
    public var dueAt: Int64
    /// How many attempts in all (1: no retry).
    public var attempts: Int
    public var backoff: Backoff
    /// Each attempt's limit, on the host clock; also the call's deadline (ABI 1.2 `call_v2`).
    public var timeoutMs: Int64
    /// Idempotency key: a submit with the key of a pending or running task returns that task.
    public var key: String?
    /// A concurrency group (config `groups`).
    public var group: String?
    /// Whether a call that finds its module not loaded waits for it (`isModuleNotLoaded`);
    /// false fails at once (a default job's run: harmless while its module is absent).
    public var waitsForModule: Bool

    public init(target: TaskTarget, dueAt: Int64, attempts: Int = 1, backoff: Backoff = Backoff(), timeoutMs: Int64 = 600_000,
                key: String? = nil, group: String? = nil, waitsForModule: Bool = true) {
        self.target = target
        self.dueAt = dueAt
        self.attempts = attempts
        self.backoff = backoff
        self.timeoutMs = timeoutMs
        self.key = key
        self.group = group
        self.waitsForModule = waitsForModule
    }

    /// The limits `task.submit` enforces (also for jobs).
    public static let maxAttempts = 100
    public static let maxTimeoutMs: Int64 = 86_400_000
    public static let maxDelayMs: Int64 = 7 * 86_400_000
}

/// Why an attempt or a task failed: the callee's JSON-RPC error, or the queue's own
/// (`reason`: `timeout`, `interrupted`, `canceled`).
public struct TaskError: Codable, Sendable, Equatable, Error {
    public var code: Int
    public var message: String
    public var reason: String?
    public var data: JSONValue?

    public init(code: Int, message: String, reason: String? = nil, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.data = data
    }

    /// Whether another attempt may help, as MODULES.md lists it: a module error (-32000, the
    /// plugin's own code under `data`), -32001 (module unavailable), -32004 (timed out). Nothing
    /// else: not a request the callee refuses as such (-32601, -32602, -32600, -32700), nor an
    /// answer that would be the same next time (-32603, a failed swap -32002 or load -32003).
    public var isRetryable: Bool {
        [-32000, -32001, -32004].contains(code) && reason != "canceled"
    }

    /// The call never reached a module: the host has none loaded by that name (yet). At start
    /// the task module may load before the module a task calls; a module may be loaded later.
    /// The queue waits for it (up to the task's `timeoutMs`) without counting an attempt.
    public var isModuleNotLoaded: Bool {
        code == -32601 && message.contains("(no module ") && message.contains(" is loaded")
    }

    public static func timeout(_ ms: Int64) -> TaskError {
        TaskError(code: -32004, message: "the attempt did not finish within timeoutMs (\(ms) ms)", reason: "timeout")
    }

    public static let interrupted = TaskError(
        code: -32000, message: "the task was running when the host stopped, and no attempt was left", reason: "interrupted")

    public static let canceled = TaskError(code: -32000, message: "canceled by task.cancel", reason: "canceled")
}

/// What the last attempt gave: a result or an error.
public struct TaskOutcome: Codable, Sendable, Equatable {
    public var result: JSONValue?
    public var error: TaskError?

    public static func success(_ result: JSONValue) -> TaskOutcome { TaskOutcome(result: result, error: nil) }
    public static func failure(_ error: TaskError) -> TaskOutcome { TaskOutcome(result: nil, error: error) }
}

/// A task as the queue keeps it (and stores it under `task/<id>`).
public struct QueuedTask: Codable, Sendable, Equatable {
    public var id: String
    /// Submission order.
    public var seq: Int64
    public var target: TaskTarget
    public var origin: TaskOrigin?
    public var status: TaskStatus
    /// Attempts begun (an interrupted one counts).
    public var attempts: Int
    public var maxAttempts: Int
    public var backoff: Backoff
    public var timeoutMs: Int64
    public var key: String?
    public var group: String?
    public var createdAt: Int64
    /// When it may run next (pending).
    public var dueAt: Int64
    /// When the current (or last) attempt began.
    public var startedAt: Int64?
    public var completedAt: Int64?
    /// The last attempt's outcome (the final one once terminal).
    public var outcome: TaskOutcome?
    /// Its results entry, once terminal.
    public var cursor: Int64?
    /// Since when it waits for its module to be loaded (its last call found none).
    public var missingSince: Int64?
    /// False: a call finding its module not loaded fails at once (`TaskSpec.waitsForModule`).
    public var waitsForModule: Bool?

    /// The module its call goes to (nil for a publish).
    public var module: String? {
        guard case .call(let method, _) = target, let dot = method.firstIndex(of: ".") else { return nil }
        return String(method[..<dot])
    }

    /// The current attempt's limit on the host clock.
    public var deadline: Int64? {
        guard status == .running, let startedAt else { return nil }
        return startedAt &+ timeoutMs
    }
}

/// `task.submit`'s answer.
public struct SubmitAnswer: Codable, Sendable, Equatable {
    public var taskId: String
    public var status: TaskStatus
    /// True when `key` named a pending or running task, which this is.
    public var existing: Bool?
}

/// `task.cancel`'s answer: `canceled`, `not_found` or `already_done`.
public struct CancelAnswer: Codable, Sendable, Equatable {
    public var status: String
}

/// `task.get`'s answer: the task without its params (they may hold secrets).
public struct TaskView: Codable, Sendable, Equatable {
    public var taskId: String
    public var status: TaskStatus
    public var method: String?
    public var topic: String?
    public var job: String?
    public var scheduledAtMs: Int64?
    public var attempts: Int
    public var maxAttempts: Int
    public var key: String?
    public var group: String?
    public var createdAt: Int64
    public var dueAt: Int64?
    public var startedAt: Int64?
    public var completedAt: Int64?
    public var result: JSONValue?
    public var error: TaskError?
    public var cursor: Int64?
    /// The module it waits for (its last call found none loaded by that name).
    public var waitingForModule: String?

    init(_ task: QueuedTask) {
        taskId = task.id
        status = task.status
        switch task.target {
        case .call(let method, _): self.method = method
        case .publish(let topic, _): self.topic = topic
        }
        if case .job(let name, let at)? = task.origin {
            job = name
            scheduledAtMs = at
        }
        attempts = task.attempts
        maxAttempts = task.maxAttempts
        key = task.key
        group = task.group
        createdAt = task.createdAt
        dueAt = task.status == .pending ? task.dueAt : nil
        startedAt = task.startedAt
        completedAt = task.completedAt
        result = task.outcome?.result
        error = task.outcome?.error
        cursor = task.cursor
        waitingForModule = task.missingSince != nil && task.status == .pending ? task.module : nil
    }
}
