import ModHostJSON
import ModuleSupport

/// A task's state: waiting for a free node, running on one, or over.
public enum TaskState: String, Codable, Sendable {
    case queued, running, completed, failed, cancelled
}

/// One `node.assign`: where it runs, which attempt is current, and how it ended. Tasks live in
/// memory only (a restart ends every dispatch: its callers' calls died with the host).
public struct DispatchTask: Codable, Sendable {
    public var taskId: String
    public var capability: String
    public var toolName: String
    public var toolArgs: JSONValue
    public var timeoutMs: Int64
    public var attempts: Int
    public var priority: Int
    public var pinnedNodeId: String?
    public var state: TaskState = .queued
    /// Attempts started so far.
    public var attempt = 0
    public var attemptId: String?
    public var nodeId: String?
    public var attemptStartedMs: Int64 = 0
    public var attemptDeadlineMs: Int64 = 0
    /// When it joined the queue; it fails once it waited `queueTimeoutMs`.
    public var queuedAtMs: Int64?
    /// Queue order within a priority (FIFO).
    public var sequence: UInt64
    public var tried: [String] = []
    public var createdMs: Int64
    public var endedMs: Int64?
    public var result: JSONValue?
    public var error: TaskError?
    /// The held `node.assign` call, for `wait: true`.
    public var waiter: PendingCallID?
    /// When the held call's caller stops waiting (its ABI 1.2 deadline): the task ends then.
    public var callerDeadlineMs: Int64?

    /// `node.taskGet`'s view.
    var view: TaskView {
        TaskView(taskId: taskId, state: state, capability: capability, toolName: toolName, priority: priority, attempt: attempt,
                 attempts: attempts, attemptId: attemptId, nodeId: nodeId, tried: tried, createdMs: createdMs, endedMs: endedMs,
                 result: result, error: error)
    }
}

/// How a task failed: `task_failed`, `task_timeout`, `task_cancelled`, `no_capable_node`.
public struct TaskError: Codable, Sendable, Equatable {
    public var reason: String
    public var message: String
    /// The agent's own error of the last attempt, if it sent one.
    public var detail: JSONValue?
}

public struct TaskView: Codable, Sendable {
    public var taskId: String
    public var state: TaskState
    public var capability: String
    public var toolName: String
    public var priority: Int
    public var attempt: Int
    public var attempts: Int
    public var attemptId: String?
    public var nodeId: String?
    public var tried: [String]
    public var createdMs: Int64
    public var endedMs: Int64?
    public var result: JSONValue?
    public var error: TaskError?
}
