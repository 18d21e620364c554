import ModHostJSON
import ModHostSupport
import ModuleSupport

/// The node module's rules: the registry of worker nodes and their statuses, dispatch with
/// fail-over, and per-node LLM quotas. Pure: time comes in as `now`, the connection a call came
/// from as `client`; store writes, events, notifications to one agent and answers to held
/// `node.assign` calls go into `effects`.
///
/// Registry and heartbeats are here; dispatch in `+Dispatch`, quotas in `+Quota`.
public struct NodeEngine: Sendable {
    public typealias Effects = ModuleEffectList

    public let limits: NodeLimits
    public internal(set) var nodes: [String: NodeRecord] = [:]
    var tasks: [String: DispatchTask] = [:]
    /// Queued and running tasks.
    var active: Set<String> = []
    var queuedCount = 0
    /// Finished task ids, oldest first (trimmed to `keepFinished`).
    var finished: [String] = []
    var quotas: [String: QuotaState] = [:]
    var permitOwner: [String: String] = [:]
    var nextCheckMs: Int64?
    var sequence: UInt64 = 0
    var roundRobin = 0
    let idPrefix: String

    /// - Parameter idPrefix: makes this instance's task, attempt and permit ids its own (random
    ///   per start in the plugin), so an id of a previous run never names something of this one.
    public init(limits: NodeLimits, idPrefix: String) {
        self.limits = limits
        self.idPrefix = idPrefix
    }

    mutating func nextID(_ kind: String) -> String {
        sequence &+= 1
        return "\(kind)-\(idPrefix)-\(sequence)"
    }

    // MARK: Registry

    public mutating func register(_ request: RegisterRequest, client: UInt64, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> RegisterAnswer {
        guard !request.name.isEmpty, request.name.utf8.count <= 200 else { throw .invalidInput("name must be 1 to 200 bytes long") }
        guard request.type == "worker" || request.type == "companion" else {
            throw .invalidInput("type must be worker or companion, got \(LogText.quote(request.type))")
        }
        guard !request.capabilities.isEmpty, request.capabilities.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidInput("capabilities must be a non-empty list of non-empty strings")
        }
        let maxTasks = request.maxConcurrentTasks ?? 1
        guard (1...1_000).contains(maxTasks) else { throw .invalidInput("maxConcurrentTasks must be 1 to 1000, got \(maxTasks)") }
        let nodeId = request.nodeId ?? nextID("node")
        guard !nodeId.isEmpty, nodeId.utf8.count <= 200 else { throw .invalidInput("nodeId must be 1 to 200 bytes long") }
        var node: NodeRecord
        let old: NodeStatus?
        if let existing = nodes[nodeId] {
            node = existing
            old = existing.status
        } else {
            guard nodes.count < limits.maxNodes else {
                throw .reason("too_many_nodes", "at most \(limits.maxNodes) nodes may register: unregister or prune offline ones",
                              ["limit": .int(Int64(limits.maxNodes))])
            }
            node = NodeRecord(nodeId: nodeId, name: request.name, type: request.type, capabilities: [], maxConcurrentTasks: 1,
                              status: .online, lastHeartbeatMs: now, registeredAtMs: now)
            old = nil
        }
        node.name = request.name
        node.type = request.type
        node.capabilities = request.capabilities
        node.tools = request.tools
        node.maxConcurrentTasks = maxTasks
        node.resources = request.resources
        node.tags = request.tags
        node.version = request.version
        node.metadata = request.metadata
        node.draining = false
        heard(&node, client: client, at: now)
        nodes[nodeId] = node
        effects.publish("node.registered", NodeEvent(nodeId: nodeId, name: node.name, type: node.type))
        effects.log(.info, "node \(LogText.quote(nodeId)) registered (\(old == nil ? "new" : "again"), client \(client))")
        refresh(nodeId, from: old ?? .online, at: now, effects: &effects, write: true)
        dispatchQueued(at: now, effects: &effects)
        return RegisterAnswer(nodeId: nodeId, heartbeatIntervalMs: limits.heartbeatIntervalMs, heartbeatTimeoutMs: limits.heartbeatTimeoutMs)
    }

    /// A registration or heartbeat from `client`: the node is live on that connection.
    private func heard(_ node: inout NodeRecord, client: UInt64, at now: Int64) {
        node.lastHeartbeatMs = now
        node.heard = true
        node.restoredAtMs = nil
        if client != 0 {
            node.clientId = client
            node.disconnectedAtMs = nil
        }
        if node.status == .offline { node.status = .online }  // `refresh` derives the real one
    }

    public mutating func heartbeat(_ request: HeartbeatRequest, client: UInt64, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> NodeSummary {
        guard var node = nodes[request.nodeId] else { throw Self.notRegistered(request.nodeId) }
        let old = node.status
        switch request.status {
        case nil, "busy": break
        case "online": node.draining = false
        case "draining": node.draining = true
        case let other?: throw .invalidInput("status must be online, busy or draining, got \(LogText.quote(other))")
        }
        heard(&node, client: client, at: now)
        nodes[request.nodeId] = node
        refresh(request.nodeId, from: old, at: now, effects: &effects, write: true)
        if old != .online { dispatchQueued(at: now, effects: &effects) }
        return nodes[request.nodeId]!.summary
    }

    static func notRegistered(_ nodeId: String) -> ModuleFailure {
        .reason("node_not_registered", "node \(LogText.quote(nodeId)) is not registered: register it (node.register) first",
                ["nodeId": .string(nodeId)])
    }

    public mutating func unregister(_ nodeId: String, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> NodeSummary {
        guard let node = nodes[nodeId] else { throw Self.notRegistered(nodeId) }
        failOver(runningOn: nodeId, reason: "node unregistered", at: now, effects: &effects)
        nodes[nodeId] = nil
        effects.delete("node/\(nodeId)")
        effects.publish("node.unregistered", NodeEvent(nodeId: nodeId, name: node.name, type: node.type))
        return node.summary
    }

    public func list(_ request: ListRequest) -> NodeList {
        let matching = nodes.values.filter { node in
            (request.type.map { node.type == $0 } ?? true) && (request.status.map { node.status == $0 } ?? true)
                && (request.capability.map { node.capabilities.contains($0) } ?? true)
        }.sorted { $0.nodeId < $1.nodeId }.map(\.summary)
        return NodeList(nodes: matching, total: matching.count)
    }

    public func get(_ nodeId: String, at now: Int64) throws(ModuleFailure) -> NodeDetail {
        guard let node = nodes[nodeId] else { throw Self.notRegistered(nodeId) }
        return NodeDetail(nodeId: nodeId, name: node.name, type: node.type, status: node.status, capabilities: node.capabilities,
                          tools: node.tools, activeTasks: node.activeTasks, maxConcurrentTasks: node.maxConcurrentTasks,
                          resources: node.resources, tags: node.tags, version: node.version, metadata: node.metadata,
                          lastHeartbeatMs: node.lastHeartbeatMs, registeredAtMs: node.registeredAtMs, connected: node.clientId != 0,
                          stats: statsView(node, at: now))
    }

    func statsView(_ node: NodeRecord, at now: Int64) -> StatsView {
        StatsView(nodeId: node.nodeId, total: node.stats.total, completed: node.stats.completed, failed: node.stats.failed,
                  timedOut: node.stats.timedOut, averageResponseMs: node.stats.averageMs, p95ResponseMs: node.stats.p95Ms,
                  uptimeMs: node.upSinceMs.map { max(0, now - $0) } ?? 0)
    }

    public func stats(at now: Int64) -> StatsAnswer {
        let all = nodes.values.sorted { $0.nodeId < $1.nodeId }
        var byStatus: [String: Int] = [:]
        for node in all { byStatus[node.status.rawValue, default: 0] += 1 }
        return StatsAnswer(nodes: all.map { statsView($0, at: now) }, byStatus: byStatus, total: all.count, queued: queuedCount,
                           running: active.count - queuedCount)
    }

    public mutating func drain(_ nodeId: String, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> NodeSummary {
        guard nodes[nodeId] != nil else { throw Self.notRegistered(nodeId) }
        let old = nodes[nodeId]!.status
        nodes[nodeId]!.draining = true
        refresh(nodeId, from: old, at: now, effects: &effects, write: true)
        return nodes[nodeId]!.summary
    }

    public mutating func prune(offlineForMs: Int64, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> [String] {
        guard offlineForMs >= 0 else { throw .invalidInput("offlineForMs must not be negative, got \(offlineForMs)") }
        let pruned = nodes.values.filter { $0.status == .offline && ($0.offlineSinceMs ?? now) <= now - offlineForMs }.map(\.nodeId).sorted()
        for id in pruned { _ = try unregister(id, at: now, effects: &effects) }
        return pruned
    }

    /// Sets the node's status to the one its state says; publishes the change with the real
    /// previous status (`from`, when the caller already changed `status`) and stores the record.
    mutating func refresh(_ nodeId: String, from old: NodeStatus, at now: Int64, effects: inout Effects, write: Bool = false) {
        guard var node = nodes[nodeId] else { return }
        let new = node.derivedStatus()
        node.status = new
        let up = new == .online || new == .busy || new == .draining
        if up, node.upSinceMs == nil { node.upSinceMs = now }
        if !up { node.upSinceMs = nil }
        if new == .offline, old != .offline { node.offlineSinceMs = now }
        if new != .offline { node.offlineSinceMs = nil }
        nodes[nodeId] = node
        if new != old {
            effects.publish("node.status_changed", StatusChange(nodeId: nodeId, oldStatus: old, newStatus: new))
        }
        if write || (new != old && new != .busy && old != .busy) { effects.put("node/\(nodeId)", encoding: node) }
    }
}
