import ModHostSupport
import ModuleSupport

// Liveness: the module's own heartbeat check every `checkIntervalMs` (5 s), closed connections
// (offline after the grace), and the wake-up that also ends attempts and queue waits on time.
extension NodeEngine {
    /// `node.checkHeartbeats`, and the 5 s check: nodes silent for `heartbeatTimeoutMs`, and
    /// nodes whose connection closed more than the grace ago, turn offline; their running
    /// attempts move to other nodes.
    public mutating func checkHeartbeats(at now: Int64, effects: inout Effects) -> [StatusChange] {
        var changes: [StatusChange] = []
        for id in nodes.keys.sorted() {
            guard let node = nodes[id], node.status != .offline else { continue }
            let since = max(node.lastHeartbeatMs, node.restoredAtMs ?? node.lastHeartbeatMs)
            let silent = now - since >= limits.heartbeatTimeoutMs
            let gone = node.disconnectedAtMs.map { now - $0 >= limits.disconnectGraceMs } ?? false
            guard silent || gone else { continue }
            changes.append(StatusChange(nodeId: id, oldStatus: node.status, newStatus: .offline))
            goOffline(id, why: silent ? "no heartbeat for \(now - since) ms" : "its connection closed \(limits.disconnectGraceMs) ms ago",
                      at: now, effects: &effects)
        }
        nextCheckMs = now + limits.checkIntervalMs
        return changes
    }

    mutating func goOffline(_ nodeId: String, why: String, at now: Int64, effects: inout Effects) {
        guard let old = nodes[nodeId]?.status else { return }
        nodes[nodeId]!.status = .offline
        effects.log(.info, "node \(LogText.quote(nodeId)) is offline: \(why)")
        refresh(nodeId, from: old, at: now, effects: &effects, write: true)
        failOver(runningOn: nodeId, reason: "node went offline", at: now, effects: &effects)
    }

    /// `host.client_disconnected`: the connection's running attempts move at once; its nodes
    /// turn offline after the grace unless they register (or heartbeat) again meanwhile.
    public mutating func clientDisconnected(_ client: UInt64, at now: Int64, effects: inout Effects) {
        for id in nodes.keys.sorted() where nodes[id]?.clientId == client {
            nodes[id]!.clientId = 0
            nodes[id]!.disconnectedAtMs = now
            effects.log(.info, "node \(LogText.quote(id)): its connection \(client) closed; offline in \(limits.disconnectGraceMs) ms unless it registers again")
            failOver(runningOn: id, reason: "its connection closed", at: now, effects: &effects)
        }
    }

    public var nextWakeMs: Int64? {
        var next = nextCheckMs
        func consider(_ ms: Int64) { next = min(next ?? ms, ms) }
        for id in active {
            guard let task = tasks[id] else { continue }
            if task.state == .running { consider(task.attemptDeadlineMs) }
            if task.state == .queued, let queued = task.queuedAtMs { consider(queued &+ limits.queueTimeoutMs) }
            if let callerDeadline = task.callerDeadlineMs { consider(callerDeadline) }
        }
        for node in nodes.values { if let gone = node.disconnectedAtMs, node.status != .offline { consider(gone + limits.disconnectGraceMs) } }
        return next
    }

    public mutating func wake(at now: Int64, effects: inout Effects) {
        if let check = nextCheckMs, now >= check { _ = checkHeartbeats(at: now, effects: &effects) }
        for id in nodes.keys.sorted() {
            guard let node = nodes[id], node.status != .offline, let gone = node.disconnectedAtMs,
                  now - gone >= limits.disconnectGraceMs else { continue }
            goOffline(id, why: "its connection closed \(now - gone) ms ago", at: now, effects: &effects)
        }
        expireAttempts(at: now, effects: &effects)
        if nextCheckMs == nil { nextCheckMs = now + limits.checkIntervalMs }
    }
}
