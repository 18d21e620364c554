import ModHostJSON

/// A node's status (MODULES.md): `unknown` restored without a heartbeat yet, `online`, `busy`
/// (active tasks ≥ its maximum), `draining` (no new tasks), `offline` (kept, not removed).
public enum NodeStatus: String, Codable, Sendable, CaseIterable {
    case unknown, online, busy, draining, offline
}

/// A registered node: what it declared, which connection it belongs to, and its counters.
/// Persisted as `node/<nodeId>` (without `clientId`, which dies with the host).
public struct NodeRecord: Codable, Sendable {
    public var nodeId: String
    public var name: String
    public var type: String
    public var capabilities: [String]
    public var tools: [String]?
    public var maxConcurrentTasks: Int
    public var resources: JSONValue?
    public var tags: [String]?
    public var version: String?
    public var metadata: JSONValue?
    public var status: NodeStatus
    public var draining = false
    public var lastHeartbeatMs: Int64
    public var registeredAtMs: Int64
    /// Since when the node is up (online, busy or draining); nil while unknown or offline.
    public var upSinceMs: Int64?
    public var offlineSinceMs: Int64?
    public var stats = NodeStats()
    /// The connection that registered it (0: none known, after a restart); not persisted.
    public var clientId: UInt64 = 0
    /// When its connection closed; it turns offline at this plus the grace.
    public var disconnectedAtMs: Int64?
    /// Attempts running on it now.
    public var activeTasks = 0
    /// Whether it registered or heartbeat in this run (restored nodes are `unknown` until then).
    public var heard = true
    /// Since when a restored node waits for its first heartbeat (its timeout counts from here).
    public var restoredAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case nodeId, name, type, capabilities, tools, maxConcurrentTasks, resources, tags, version, metadata, status, draining,
             lastHeartbeatMs, registeredAtMs, upSinceMs, offlineSinceMs, stats
    }

    /// Whether it may run `capability` (and `tool`, when it declared tools).
    func serves(_ capability: String, tool: String) -> Bool {
        capabilities.contains(capability) && (tools.map { $0.contains(tool) } ?? true)
    }

    /// The status its state says (offline stays offline until a heartbeat or registration).
    func derivedStatus() -> NodeStatus {
        if status == .offline { return .offline }
        if !heard { return .unknown }
        if draining { return .draining }
        return activeTasks >= maxConcurrentTasks ? .busy : .online
    }

    /// `node.list`'s entry.
    var summary: NodeSummary {
        NodeSummary(nodeId: nodeId, name: name, type: type, status: status, capabilities: capabilities, activeTasks: activeTasks,
                    maxConcurrentTasks: maxConcurrentTasks, lastHeartbeatMs: lastHeartbeatMs, tags: tags)
    }
}

/// A node's task counters (MODULES.md "Stats").
public struct NodeStats: Codable, Sendable, Equatable {
    public var total = 0
    public var completed = 0
    public var failed = 0
    public var timedOut = 0
    /// The last 200 response times (ms) of completed attempts, for the average and p95.
    public var recentMs: [Int64] = []

    static let keep = 200

    mutating func record(_ ms: Int64) {
        recentMs.append(ms)
        if recentMs.count > Self.keep { recentMs.removeFirst(recentMs.count - Self.keep) }
    }

    var averageMs: Double? { recentMs.isEmpty ? nil : Double(recentMs.reduce(0, +)) / Double(recentMs.count) }

    /// The nearest-rank 95th percentile.
    var p95Ms: Int64? {
        guard !recentMs.isEmpty else { return nil }
        let sorted = recentMs.sorted()
        let rank = Int((0.95 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, rank - 1)]
    }
}

public struct NodeSummary: Codable, Sendable {
    public var nodeId: String
    public var name: String
    public var type: String
    public var status: NodeStatus
    public var capabilities: [String]
    public var activeTasks: Int
    public var maxConcurrentTasks: Int
    public var lastHeartbeatMs: Int64
    public var tags: [String]?
}
