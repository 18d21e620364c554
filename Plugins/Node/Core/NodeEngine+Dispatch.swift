import ModHostJSON
import ModHostSupport
import ModuleSupport

// Dispatch: `node.assign` picks a node, sends the attempt to that node's connection alone, and
// completes on `node.taskResult` for the current attempt; timeouts, offline nodes and closed
// connections move the task to another node with a new attempt id.
extension NodeEngine {
    /// `node.assign`: nil when `waiter` holds the call until the task ends, else `{taskId, state}`.
    ///
    /// `callerDeadlineMs` is when the waiting caller stops waiting (its call's ABI 1.2 deadline,
    /// on this engine's clock): no attempt runs past it, an agent is told the time it really
    /// has, and at that time the task ends (`deadline_passed`) instead of running on for nobody.
    public mutating func assign(_ request: AssignRequest, waiter: PendingCallID?, callerDeadlineMs: Int64? = nil, at now: Int64,
                                effects: inout Effects) throws(ModuleFailure) -> AssignQueued? {
        guard !request.capability.isEmpty else { throw .invalidInput("capability must not be empty") }
        guard !request.toolName.isEmpty else { throw .invalidInput("toolName must not be empty") }
        let timeoutMs = request.timeoutMs ?? 60_000
        guard (1...86_400_000).contains(timeoutMs) else { throw .invalidInput("timeoutMs must be 1 to 86400000, got \(timeoutMs)") }
        let attempts = request.attempts ?? 3
        guard (1...10).contains(attempts) else { throw .invalidInput("attempts must be 1 to 10, got \(attempts)") }
        let priority = request.priority ?? 5
        guard (0...10).contains(priority) else { throw .invalidInput("priority must be 0 to 10, got \(priority)") }
        if let pinned = request.nodeId, nodes[pinned] == nil { throw Self.notRegistered(pinned) }
        var task = DispatchTask(taskId: nextID("task"), capability: request.capability, toolName: request.toolName,
                                toolArgs: request.toolArgs ?? .object([:]), timeoutMs: timeoutMs, attempts: attempts, priority: priority,
                                pinnedNodeId: request.nodeId, sequence: sequence, createdMs: now)
        guard hasCapable(task) else {
            throw .reason("no_capable_node", "no node can run \(LogText.quote(request.capability))/\(LogText.quote(request.toolName))",
                          ["capability": .string(request.capability)])
        }
        task.waiter = waiter
        if waiter != nil, let callerDeadlineMs {
            guard callerDeadlineMs > now else {
                throw .reason("deadline_passed", "the call's deadline has already passed: nothing was dispatched", [:])
            }
            task.callerDeadlineMs = callerDeadlineMs
        }
        if let node = pick(task) {
            tasks[task.taskId] = task
            active.insert(task.taskId)
            startAttempt(task.taskId, on: node, at: now, effects: &effects)
        } else {
            guard queuedCount < limits.maxQueued else {
                throw .reason("queue_full", "\(limits.maxQueued) tasks already wait for a node: retry later", ["limit": .int(Int64(limits.maxQueued))])
            }
            task.queuedAtMs = now
            tasks[task.taskId] = task
            active.insert(task.taskId)
            queuedCount += 1
        }
        return waiter == nil ? AssignQueued(taskId: task.taskId, state: tasks[task.taskId]!.state) : nil
    }

    /// Whether some node that is not offline or draining could ever run `task`.
    func hasCapable(_ task: DispatchTask) -> Bool {
        nodes.values.contains { node in
            (task.pinnedNodeId.map { $0 == node.nodeId } ?? true) && node.serves(task.capability, tool: task.toolName)
                && node.status != .offline && node.status != .draining
        }
    }

    /// The node to run `task` now: online, connected, capable, with a free slot, preferring
    /// nodes it has not tried; the lowest active/max wins, ties round-robin.
    mutating func pick(_ task: DispatchTask) -> String? {
        var free = nodes.values.filter { node in
            node.status == .online && node.clientId != 0 && node.activeTasks < node.maxConcurrentTasks
                && (task.pinnedNodeId.map { $0 == node.nodeId } ?? true) && node.serves(task.capability, tool: task.toolName)
        }
        guard !free.isEmpty else { return nil }
        let untried = free.filter { !task.tried.contains($0.nodeId) }
        if !untried.isEmpty { free = untried }
        func load(_ node: NodeRecord) -> Double { Double(node.activeTasks) / Double(node.maxConcurrentTasks) }
        let lowest = free.map(load).min()!
        let tied = free.filter { load($0) == lowest }.map(\.nodeId).sorted()
        roundRobin &+= 1
        return tied[roundRobin % tied.count]
    }

    mutating func startAttempt(_ taskId: String, on nodeId: String, at now: Int64, effects: inout Effects) {
        guard var task = tasks[taskId], var node = nodes[nodeId] else { return }
        task.attempt += 1
        let attemptId = "\(taskId).\(task.attempt)"
        task.attemptId = attemptId
        task.nodeId = nodeId
        task.state = .running
        task.queuedAtMs = nil
        task.attemptStartedMs = now
        task.attemptDeadlineMs = min(now &+ task.timeoutMs, task.callerDeadlineMs ?? .max)
        task.tried.append(nodeId)
        tasks[taskId] = task
        let old = node.status
        node.activeTasks += 1
        node.stats.total += 1
        nodes[nodeId] = node
        effects.notify(client: node.clientId, "node.task_assign",
                       TaskAssignment(taskId: taskId, attemptId: attemptId, nodeId: nodeId, toolName: task.toolName,
                                      toolArgs: task.toolArgs, timeoutMs: task.attemptDeadlineMs - now))
        refresh(nodeId, from: old, at: now, effects: &effects)
    }

    /// The current attempt of `taskId` is over on its node (a slot frees).
    mutating func endAttempt(_ taskId: String, at now: Int64, effects: inout Effects, update: (inout NodeStats) -> Void) {
        guard let nodeId = tasks[taskId]?.nodeId, var node = nodes[nodeId] else { return }
        let old = node.status
        node.activeTasks = max(0, node.activeTasks - 1)
        update(&node.stats)
        nodes[nodeId] = node
        refresh(nodeId, from: old, at: now, effects: &effects)
    }

    /// `node.taskResult`: completes the task (or retries a failure) when it is the current attempt.
    public mutating func taskResult(_ request: TaskResultRequest, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> Accepted {
        guard let task = tasks[request.taskId], task.state == .running, task.attemptId == request.attemptId else {
            effects.log(.info, "dropped a result for task \(LogText.quote(request.taskId)) attempt \(LogText.quote(request.attemptId)): not its current attempt")
            throw .reason("stale_attempt", "attempt \(LogText.quote(request.attemptId)) of task \(LogText.quote(request.taskId)) is not current: its result is dropped",
                          ["taskId": .string(request.taskId), "attemptId": .string(request.attemptId)])
        }
        let took = now - task.attemptStartedMs
        if request.success {
            endAttempt(task.taskId, at: now, effects: &effects) { $0.completed += 1; $0.record(took) }
            let done = TaskDone(taskId: task.taskId, attemptId: request.attemptId, nodeId: task.nodeId ?? "", result: request.result ?? .null)
            tasks[task.taskId]!.result = done.result
            finish(task.taskId, .completed, at: now, effects: &effects)
            if let waiter = task.waiter { effects.reply(waiter, done) }
            effects.publish("node.task_completed", done)
        } else {
            endAttempt(task.taskId, at: now, effects: &effects) { $0.failed += 1; $0.record(took) }
            retryOrFail(task.taskId, reason: "task_failed", message: "the node reported a failure", detail: request.error, at: now, effects: &effects)
        }
        dispatchQueued(at: now, effects: &effects)
        return Accepted(accepted: true)
    }

    /// Attempts past their deadline: the node is told to stop, the task moves on.
    mutating func expireAttempts(at now: Int64, effects: inout Effects) {
        for id in active.sorted() {
            guard let task = tasks[id], task.state == .running || task.state == .queued else { continue }
            if let callerDeadline = task.callerDeadlineMs, now >= callerDeadline {
                if task.state == .running {
                    cancelOnNode(task, effects: &effects)
                    endAttempt(id, at: now, effects: &effects) { $0.timedOut += 1 }
                } else {
                    queuedCount -= 1
                }
                effects.log(.info, "task \(LogText.quote(id)) ends at attempt \(task.attempt): its caller's deadline passed")
                fail(id, TaskError(reason: "deadline_passed", message: "the caller stopped waiting (its call's deadline passed) at attempt \(task.attempt) of \(task.attempts)"),
                     at: now, effects: &effects)
            } else if task.state == .queued, let queued = task.queuedAtMs, now - queued >= limits.queueTimeoutMs {
                queuedCount -= 1
                fail(id, TaskError(reason: "task_timeout", message: "waited \(now - queued) ms for a free node"), at: now, effects: &effects)
            } else if task.state == .running, now >= task.attemptDeadlineMs {
                cancelOnNode(task, effects: &effects)
                endAttempt(id, at: now, effects: &effects) { $0.timedOut += 1 }
                effects.log(.info, "task \(LogText.quote(id)) attempt \(task.attempt) timed out on node \(LogText.quote(task.nodeId ?? ""))")
                retryOrFail(id, reason: "task_timeout", message: "no result within \(task.timeoutMs) ms", detail: nil, at: now, effects: &effects)
            }
        }
        dispatchQueued(at: now, effects: &effects)
    }

    /// The running attempts on `nodeId` fail over at once (the node is offline, gone or unregistered).
    mutating func failOver(runningOn nodeId: String, reason: String, at now: Int64, effects: inout Effects) {
        for id in active.sorted() {
            guard let task = tasks[id], task.state == .running, task.nodeId == nodeId else { continue }
            endAttempt(id, at: now, effects: &effects) { $0.failed += 1 }
            effects.log(.info, "task \(LogText.quote(id)) attempt \(task.attempt) moves on: node \(LogText.quote(nodeId)) \(reason)")
            retryOrFail(id, reason: "task_failed", message: "node \(nodeId): \(reason)", detail: nil, at: now, effects: &effects)
        }
    }

    func cancelOnNode(_ task: DispatchTask, effects: inout Effects) {
        guard let nodeId = task.nodeId, let attemptId = task.attemptId, let client = nodes[nodeId]?.clientId, client != 0 else { return }
        effects.notify(client: client, "node.task_cancel", TaskCancel(taskId: task.taskId, attemptId: attemptId, nodeId: nodeId))
    }

    /// After a failed attempt: the next one on another node, the queue, or the end.
    mutating func retryOrFail(_ taskId: String, reason: String, message: String, detail: JSONValue?, at now: Int64, effects: inout Effects) {
        guard var task = tasks[taskId] else { return }
        task.nodeId = nil
        task.attemptId = nil
        tasks[taskId] = task
        guard task.attempt < task.attempts else {
            return fail(taskId, TaskError(reason: reason, message: "\(message) (attempt \(task.attempt) of \(task.attempts))", detail: detail),
                        at: now, effects: &effects)
        }
        if let node = pick(task) { return startAttempt(taskId, on: node, at: now, effects: &effects) }
        guard hasCapable(task) else {
            return fail(taskId, TaskError(reason: reason, message: "\(message); no other node can run it", detail: detail), at: now, effects: &effects)
        }
        tasks[taskId]!.state = .queued
        tasks[taskId]!.queuedAtMs = now
        queuedCount += 1
    }

    mutating func fail(_ taskId: String, _ error: TaskError, at now: Int64, effects: inout Effects) {
        guard let task = tasks[taskId] else { return }
        tasks[taskId]!.error = error
        finish(taskId, error.reason == "task_cancelled" ? .cancelled : .failed, at: now, effects: &effects)
        if let waiter = task.waiter {
            effects.fail(waiter, .reason(error.reason, "task \(taskId): \(error.message)",
                                         ["taskId": .string(taskId), "attempts": .int(Int64(task.attempt))]))
        }
        effects.publish("node.task_failed", TaskFailedEvent(taskId: taskId, reason: error.reason, message: error.message, attempts: task.attempt))
    }

    mutating func finish(_ taskId: String, _ state: TaskState, at now: Int64, effects: inout Effects) {
        tasks[taskId]!.state = state
        tasks[taskId]!.endedMs = now
        tasks[taskId]!.waiter = nil
        active.remove(taskId)
        finished.append(taskId)
        if finished.count > limits.keepFinished + limits.keepFinished / 4 {
            let drop = finished.count - limits.keepFinished
            for id in finished.prefix(drop) { tasks[id] = nil }
            finished.removeFirst(drop)
        }
    }

    /// Queued tasks, higher priority first and FIFO within, take the free nodes.
    mutating func dispatchQueued(at now: Int64, effects: inout Effects) {
        guard queuedCount > 0 else { return }
        let waiting = active.compactMap { tasks[$0] }.filter { $0.state == .queued }
            .sorted { ($0.priority, -Int64(bitPattern: $0.sequence)) > ($1.priority, -Int64(bitPattern: $1.sequence)) }
        for task in waiting {
            guard let node = pick(task) else { continue }
            queuedCount -= 1
            startAttempt(task.taskId, on: node, at: now, effects: &effects)
        }
    }

    /// `node.cancelTask`: a queued or running task ends `cancelled` (its node is told to stop).
    public mutating func cancel(_ taskId: String, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> TaskView {
        guard let task = tasks[taskId] else { throw Self.taskNotFound(taskId) }
        switch task.state {
        case .queued:
            queuedCount -= 1
        case .running:
            cancelOnNode(task, effects: &effects)
            endAttempt(taskId, at: now, effects: &effects) { _ in }
        case .completed, .failed, .cancelled:
            return task.view
        }
        fail(taskId, TaskError(reason: "task_cancelled", message: "cancelled by node.cancelTask"), at: now, effects: &effects)
        dispatchQueued(at: now, effects: &effects)
        return tasks[taskId]!.view
    }

    static func taskNotFound(_ taskId: String) -> ModuleFailure {
        .reason("task_not_found", "no task \(LogText.quote(taskId)) (finished tasks are kept for node.taskGet while they are among the last 1000)",
                ["taskId": .string(taskId)])
    }

    public func taskGet(_ taskId: String) throws(ModuleFailure) -> TaskView {
        guard let task = tasks[taskId] else { throw Self.taskNotFound(taskId) }
        return task.view
    }

    public func taskList(_ request: TasksRequest) -> TaskList {
        let views = tasks.values.filter { task in
            (request.nodeId.map { task.nodeId == $0 || task.tried.contains($0) } ?? true) && (request.state.map { task.state == $0 } ?? true)
        }.sorted { $0.sequence < $1.sequence }.map(\.view)
        return TaskList(tasks: views, total: views.count)
    }

    /// Held `node.assign` calls whose callers stopped waiting: the tasks go on; events and
    /// `node.taskGet` report their end.
    public mutating func released(_ calls: [PendingCallID], effects: inout Effects) {
        let gone = Set(calls)
        for id in active where tasks[id]?.waiter.map(gone.contains) == true { tasks[id]!.waiter = nil }
    }
}
