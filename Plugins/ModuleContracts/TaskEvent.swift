/// The data of the task module's `task.started` and `task.finished` events.
public struct TaskEvent: Codable, Sendable, Equatable {
    public var taskId: String
    /// `running` for `task.started`; `succeeded`, `failed` or `canceled` for `task.finished`.
    public var status: String
    /// Attempts begun so far (the one starting included).
    public var attempts: Int
    /// The cron job whose run this is, and when it was due.
    public var job: String?
    public var scheduledAtMs: Int64?
    /// `task.finished`: its results entry.
    public var cursor: Int64?

    public init(taskId: String, status: String, attempts: Int, job: String? = nil, scheduledAtMs: Int64? = nil, cursor: Int64? = nil) {
        self.taskId = taskId
        self.status = status
        self.attempts = attempts
        self.job = job
        self.scheduledAtMs = scheduledAtMs
        self.cursor = cursor
    }
}
