import ModuleSupport

// The node rules as the module kit runs them: what crosses a hot swap and what a restart reads.
extension NodeEngine: ModuleEngine {
    /// Everything in memory, connections included (a hot swap keeps them open).
    public struct State: Codable, Sendable {
        public var nodes: [NodeRecord]
        public var clients: [String: UInt64]
        public var heard: [String]
        public var tasks: [DispatchTask]
        public var finished: [String]
        public var quotas: [String: QuotaState]
        public var sequence: UInt64
    }

    public func exportState() -> State {
        State(nodes: Array(nodes.values), clients: nodes.mapValues(\.clientId), heard: nodes.values.filter(\.heard).map(\.nodeId),
              tasks: Array(tasks.values), finished: finished, quotas: quotas, sequence: sequence)
    }

    public mutating func importState(_ state: State) {
        let heard = Set(state.heard)
        nodes = [:]
        for var node in state.nodes {
            node.clientId = state.clients[node.nodeId] ?? 0
            node.heard = heard.contains(node.nodeId)
            node.activeTasks = 0
            nodes[node.nodeId] = node
        }
        tasks = [:]
        active = []
        queuedCount = 0
        for var task in state.tasks {
            task.waiter = nil  // held calls never cross a swap (the kit waits for them first)
            tasks[task.taskId] = task
            if task.state == .queued { queuedCount += 1; active.insert(task.taskId) }
            if task.state == .running, let node = task.nodeId {
                active.insert(task.taskId)
                nodes[node]?.activeTasks += 1
            }
        }
        finished = state.finished
        quotas = state.quotas
        rebuildPermitOwners()
        sequence = state.sequence
    }

    /// The `node/` and `quota/` records of the last run: nodes are `unknown` (offline ones stay
    /// offline) until they heartbeat, and no connection is theirs yet.
    public mutating func load(nodes records: [NodeRecord], quotas quotaRecords: [(name: String, value: QuotaState)], at now: Int64) {
        for var node in records {
            node.heard = false
            node.clientId = 0
            node.activeTasks = 0
            node.upSinceMs = nil
            if node.status != .offline {
                node.status = .unknown
                node.restoredAtMs = now
            }
            nodes[node.nodeId] = node
        }
        for record in quotaRecords where nodes[record.name] != nil { quotas[record.name] = record.value }
        rebuildPermitOwners()
        nextCheckMs = now + limits.checkIntervalMs
    }

    mutating func rebuildPermitOwners() {
        permitOwner = [:]
        for (nodeId, state) in quotas { for id in state.permits.keys { permitOwner[id] = nodeId } }
    }

    /// Arms the first heartbeat check (at start when nothing was restored).
    public mutating func armCheck(at now: Int64) {
        if nextCheckMs == nil { nextCheckMs = now + limits.checkIntervalMs }
    }
}
