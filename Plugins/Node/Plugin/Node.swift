// Node: worker nodes, dispatch that fails over, exact LLM quotas. The rules live in NodeCore
// (pure, unit-tested); this file is the plugin around them, on ModuleKit. Docs: ../README.md.
//
// Agents are separate processes on their own connections: a node belongs to the client that
// registered it (`CallInfo.current?.clientID`), task assignments go to that client alone (the
// kit's `.notify` effect: ABI 1.2 `notify_client`), and `host.client_disconnected` tells the
// rules a connection closed.
import ModHostPluginSDK
import ModuleContracts
import ModuleKit
import NodeCore

final class Node: EngineModule {
    static let id = "node"
    static let version = "1.0.0"
    static let description = "Worker nodes: registry, heartbeats, dispatch with fail-over, LLM quotas"

    let engine: EngineHost<NodeEngine>

    init(host: PluginHost, config: RawJSON) throws {
        let limits = try NodeLimits(host.readConfig(NodeConfig.self, from: config))
        let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        engine = EngineHost(host: host, NodeEngine(limits: limits, idPrefix: prefix))
    }

    /// The `node/<id>` and `quota/<id>` records of the last run.
    func restore(_ records: StoredRecords, into node: inout NodeEngine, at now: Int64, effects: inout ModuleEffectList) throws {
        node.load(nodes: try records.read("node/", as: NodeRecord.self), quotas: try records.readNamed("quota/", as: QuotaState.self), at: now)
        engine.host.log(.info, "restored \(node.nodes.count) nodes (unknown until they heartbeat)")
    }

    func start() throws {
        try engine.start { records, node, now, effects in try restore(records, into: &node, at: now, effects: &effects) }
        try engine.perform { engine, now, _ in engine.armCheck(at: now) }
    }

    static var client: UInt64 { CallInfo.current?.clientID ?? 0 }

    static func register(_ methods: inout Methods<Node>) {
        methods.add("register", params: ["name", "type", "capabilities"]) { (node, p: RegisterRequest) throws -> RegisterAnswer in
            let client = Self.client
            return try node.engine.perform { try $0.register(p, client: client, at: $1, effects: &$2) }
        }
        methods.add("heartbeat", params: ["nodeId"]) { (node, p: HeartbeatRequest) throws -> NodeSummary in
            let client = Self.client
            return try node.engine.perform { try $0.heartbeat(p, client: client, at: $1, effects: &$2) }
        }
        methods.add("unregister", params: ["nodeId"]) { (node, p: NodeIdRequest) in try node.engine.perform { try $0.unregister(p.nodeId, at: $1, effects: &$2) } }
        methods.add("list") { (node, p: ListRequest) in node.engine.read { $0.list(p) } }
        methods.add("get", params: ["nodeId"]) { (node, p: NodeIdRequest) in try node.engine.perform { engine, now, _ in try engine.get(p.nodeId, at: now) } }
        methods.add("stats") { node in try node.engine.perform { engine, now, _ in engine.stats(at: now) } }
        methods.add("drain", params: ["nodeId"]) { (node, p: NodeIdRequest) in try node.engine.perform { try $0.drain(p.nodeId, at: $1, effects: &$2) } }
        methods.add("prune", params: ["offlineForMs"]) { (node, p: PruneRequest) in
            try node.engine.perform { ["pruned": try $0.prune(offlineForMs: p.offlineForMs, at: $1, effects: &$2)] }
        }
        methods.add("checkHeartbeats") { node in try node.engine.perform { Transitions(transitions: $0.checkHeartbeats(at: $1, effects: &$2)) } }
        methods.addPending("assign", params: ["capability", "toolName"]) { (node, p: AssignRequest, reply) in
            if p.wait == false {
                let queued = try node.engine.perform { try $0.assign(p, waiter: nil, at: $1, effects: &$2) }
                reply.succeed(queued)
            } else {
                // The deadline travels with the call (ABI 1.2): the task ends when its caller stops waiting.
                let remainingMs = reply.info.remaining.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 }
                _ = try node.engine.perform(parking: reply) { engine, now, waiter, effects in
                    try engine.assign(p, waiter: waiter, callerDeadlineMs: remainingMs.map { now &+ $0 }, at: now, effects: &effects)
                }
            }
        }
        methods.add("taskResult", params: ["taskId", "attemptId", "success"]) { (node, p: TaskResultRequest) in
            try node.engine.perform { try $0.taskResult(p, at: $1, effects: &$2) }
        }
        methods.add("taskGet", params: ["taskId"]) { (node, p: TaskIdRequest) in try node.engine.read { try $0.taskGet(p.taskId) } }
        methods.add("cancelTask", params: ["taskId"]) { (node, p: TaskIdRequest) in try node.engine.perform { try $0.cancel(p.taskId, at: $1, effects: &$2) } }
        methods.add("tasks") { (node, p: TasksRequest) in node.engine.read { $0.taskList(p) } }
        methods.add("acquire", params: ["nodeId", "kind"]) { (node, p: AcquireRequest) in try node.engine.perform { try $0.acquire(p, at: $1, effects: &$2) } }
        methods.add("release", params: ["permitId"]) { (node, p: ReleaseRequest) in try node.engine.perform { try $0.release(p, at: $1, effects: &$2) } }
        methods.add("quota", params: ["nodeId"]) { (node, p: NodeIdRequest) in try node.engine.perform { engine, now, _ in try engine.quota(p.nodeId, at: now) } }
        methods.on(Topic.hostClientDisconnected) { (node, e: ClientEvent) in
            try node.engine.perform { engine, now, effects in engine.clientDisconnected(e.clientId, at: now, effects: &effects) }
        }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Node.pluginEntry() }
