import ModHostJSON

// The params and answers of the node methods (MODULES.md "node": the named fields are the
// contract) and the events' data.

public struct RegisterRequest: Codable, Sendable {
    public var nodeId: String?
    public var name: String
    public var type: String
    public var capabilities: [String]
    public var tools: [String]?
    public var maxConcurrentTasks: Int?
    public var resources: JSONValue?
    public var tags: [String]?
    public var version: String?
    public var metadata: JSONValue?
}

public struct RegisterAnswer: Codable, Sendable {
    public var nodeId: String
    public var heartbeatIntervalMs: Int64
    public var heartbeatTimeoutMs: Int64
}

public struct HeartbeatRequest: Codable, Sendable {
    public var nodeId: String
    public var status: String?
    public var stats: JSONValue?
}

public struct NodeIdRequest: Codable, Sendable {
    public var nodeId: String
}

public struct ListRequest: Codable, Sendable {
    public var type: String?
    public var status: NodeStatus?
    public var capability: String?
}

public struct NodeList: Codable, Sendable {
    public var nodes: [NodeSummary]
    public var total: Int
}

public struct PruneRequest: Codable, Sendable {
    public var offlineForMs: Int64
}

public struct StatusChange: Codable, Sendable, Equatable {
    public var nodeId: String
    public var oldStatus: NodeStatus
    public var newStatus: NodeStatus
}

public struct Transitions: Codable, Sendable {
    public var transitions: [StatusChange]
    public init(transitions: [StatusChange]) { self.transitions = transitions }
}

public struct NodeEvent: Codable, Sendable {
    public var nodeId: String
    public var name: String
    public var type: String
}

/// `node.get`: the whole record with its stats.
public struct NodeDetail: Codable, Sendable {
    public var nodeId: String
    public var name: String
    public var type: String
    public var status: NodeStatus
    public var capabilities: [String]
    public var tools: [String]?
    public var activeTasks: Int
    public var maxConcurrentTasks: Int
    public var resources: JSONValue?
    public var tags: [String]?
    public var version: String?
    public var metadata: JSONValue?
    public var lastHeartbeatMs: Int64
    public var registeredAtMs: Int64
    public var connected: Bool
    public var stats: StatsView
}

/// MODULES.md "Stats": total, completed, failed, timedOut, average and p95 response time, uptimeMs.
public struct StatsView: Codable, Sendable {
    public var nodeId: String
    public var total: Int
    public var completed: Int
    public var failed: Int
    public var timedOut: Int
    public var averageResponseMs: Double?
    public var p95ResponseMs: Int64?
    public var uptimeMs: Int64
}

public struct StatsAnswer: Codable, Sendable {
    public var nodes: [StatsView]
    public var byStatus: [String: Int]
    public var total: Int
    public var queued: Int
    public var running: Int
}

public struct AssignRequest: Codable, Sendable {
    public var capability: String
    public var toolName: String
    public var toolArgs: JSONValue?
    public var timeoutMs: Int64?
    public var attempts: Int?
    public var priority: Int?
    public var nodeId: String?
    public var wait: Bool?
}

/// `node.task_assign`, sent to the chosen node's connection alone.
public struct TaskAssignment: Codable, Sendable {
    public var taskId: String
    public var attemptId: String
    public var nodeId: String
    public var toolName: String
    public var toolArgs: JSONValue
    public var timeoutMs: Int64
}

/// `node.task_cancel`, sent to the node running an attempt that no longer counts.
public struct TaskCancel: Codable, Sendable {
    public var taskId: String
    public var attemptId: String
    public var nodeId: String
}

/// `node.assign`'s answer (`wait: true`) and the `node.task_completed` event.
public struct TaskDone: Codable, Sendable {
    public var taskId: String
    public var attemptId: String
    public var nodeId: String
    public var result: JSONValue
}

/// `node.task_failed`.
public struct TaskFailedEvent: Codable, Sendable {
    public var taskId: String
    public var reason: String
    public var message: String
    public var attempts: Int
}

public struct AssignQueued: Codable, Sendable {
    public var taskId: String
    public var state: TaskState
}

public struct TaskResultRequest: Codable, Sendable {
    public var taskId: String
    public var attemptId: String
    public var success: Bool
    public var result: JSONValue?
    public var error: JSONValue?
}

public struct Accepted: Codable, Sendable {
    public var accepted: Bool
}

public struct TaskIdRequest: Codable, Sendable {
    public var taskId: String
}

public struct TasksRequest: Codable, Sendable {
    public var nodeId: String?
    public var state: TaskState?
}

public struct TaskList: Codable, Sendable {
    public var tasks: [TaskView]
    public var total: Int
}

public struct AcquireRequest: Codable, Sendable {
    public var nodeId: String
    public var kind: PermitKind
    public var estimatedTokens: Int64?
}

public struct PermitAnswer: Codable, Sendable {
    public var permitId: String
    public var expiresAt: Int64
}

public struct ReleaseRequest: Codable, Sendable {
    public var permitId: String
    public var tokensUsed: Int64?
}

public struct QuotaView: Codable, Sendable {
    public struct Line: Codable, Sendable {
        public var limit: Int64
        public var used: Int64
        public var remaining: Int64
        public var resetAt: Int64?
    }
    public var nodeId: String
    public var requests: Line
    public var streamRequests: Line
    public var tokens: Line
    public var streams: Line
}
