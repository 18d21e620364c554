import ModHostJSON
import ModHostSupport
import ModuleContracts
import ModuleSupport

/// The queue's state changes: submit, cancel, start, the end of an attempt (retry with
/// backoff, or a terminal state), timeouts on the host clock, recovery of interrupted tasks.
///
/// Every change of a task is stored (`task/<id>`) before the call, event or answer it causes
/// (the kit applies store writes first, and makes the calls after the whole operation), so a
/// kill -9 at any point finds each task pending, running (its attempt interrupted: retried at
/// start if attempts remain, else failed `interrupted`) or terminal with its results entry.
extension TaskEngine {
    /// Queues `spec`; with the key of a pending or running task, returns that task instead.
    public mutating func submit(_ spec: TaskSpec, origin: TaskOrigin?, at nowMs: Int64,
                                effects: inout TaskEffects) throws(ModuleFailure) -> SubmitAnswer {
        if let key = spec.key, let id = queue.keys[key], let existing = queue[id] {
            return SubmitAnswer(taskId: id, status: existing.status, existing: true)
        }
        let seq = queue.nextSeq
        let task = QueuedTask(
            id: "t\(seq)", seq: seq, target: spec.target, origin: origin, status: .pending, attempts: 0,
            maxAttempts: spec.attempts, backoff: spec.backoff, timeoutMs: spec.timeoutMs, key: spec.key, group: spec.group,
            createdAt: nowMs, dueAt: spec.dueAt, waitsForModule: spec.waitsForModule ? nil : false)
        queue.put(task)
        pump(at: nowMs, effects: &effects)
        // Stored once: as it started (pump stores it), or else as it waits.
        let status = queue[task.id]?.status ?? task.status
        if status == .pending { store(task, &effects) }
        return SubmitAnswer(taskId: task.id, status: status, existing: nil)
    }

    /// `task.submit`.
    public mutating func submit(_ request: SubmitRequest, at nowMs: Int64, effects: inout TaskEffects) throws(ModuleFailure) -> SubmitAnswer {
        try submit(request.spec(at: nowMs), origin: nil, at: nowMs, effects: &effects)
    }

    /// `task.cancel`: a pending task is canceled; a running one too, at once (its late result is
    /// ignored).
    public mutating func cancel(_ id: String, at nowMs: Int64, effects: inout TaskEffects) -> CancelAnswer {
        guard let task = queue[id] else { return CancelAnswer(status: "not_found") }
        guard !task.status.isTerminal else { return CancelAnswer(status: "already_done") }
        inFlight.remove(id)
        finish(task, .canceled, .failure(.canceled), at: nowMs, effects: &effects)
        pump(at: nowMs, effects: &effects)
        return CancelAnswer(status: "canceled")
    }

    /// `task.get`, or -32602 for an id not known (never submitted, or compacted away).
    public func get(_ id: String) throws(ModuleFailure) -> TaskView {
        guard let task = queue[id] else {
            throw .invalidInput("taskId \(LogText.quote(id)) is not a known task (never submitted, or its result was compacted)")
        }
        return TaskView(task)
    }

    /// Starts what is due and has room.
    mutating func pump(at nowMs: Int64, effects: inout TaskEffects) {
        while let id = queue.nextStartable(at: nowMs, limits), var task = queue[id] {
            task.status = .running
            task.attempts += 1
            task.startedAt = nowMs
            queue.put(task)
            store(task, &effects)
            effects.list.publish(Topic.taskStarted, event(task).json)
            switch task.target {
            case .call(let method, let params):
                inFlight.insert(id)
                effects.calls.append(TaskCall(taskId: id, attempt: task.attempts, method: method, params: params, timeoutMs: task.timeoutMs))
            case .publish(let topic, let data):
                effects.list.publish(topic, data ?? .null)
                finish(task, .succeeded, .success(.null), at: nowMs, effects: &effects)
            }
        }
    }

    /// An attempt's call answered: `outcome` is its result or error. A reply for an attempt no
    /// longer running (canceled, timed out, or from before a restart) is ignored.
    public mutating func callEnded(_ id: String, attempt: Int, outcome: Result<JSONValue, TaskError>, at nowMs: Int64,
                                   effects: inout TaskEffects) {
        guard let task = queue[id], task.status == .running, task.attempts == attempt, inFlight.remove(id) != nil else {
            effects.list.log(.info, "task \(id) attempt \(attempt): a late reply, ignored (the attempt ended before)")
            return
        }
        switch outcome {
        case .success(let result):
            finish(task, .succeeded, .success(result), at: nowMs, effects: &effects)
        case .failure(let error) where error.isModuleNotLoaded && task.waitsForModule != false:
            waitForModule(task, error, at: nowMs, effects: &effects)
        case .failure(let error):
            attemptFailed(task, error, at: nowMs, effects: &effects)
        }
        pump(at: nowMs, effects: &effects)
    }

    /// The call found no module by that name: the attempt did not happen (it is not counted).
    /// The task waits, pending, for the module's `modules.loaded` (`moduleLoaded`), checking
    /// again every backoff delay (at least 1 s), for up to its `timeoutMs`; then it fails with the
    /// host's -32601.
    private mutating func waitForModule(_ task: QueuedTask, _ error: TaskError, at nowMs: Int64, effects: inout TaskEffects) {
        let since = task.missingSince ?? nowMs
        let giveUp = since &+ task.timeoutMs
        guard nowMs < giveUp else {
            var gaveUp = task
            gaveUp.attempts -= 1
            finish(gaveUp, .failed, .failure(error), at: nowMs, effects: &effects)
            return
        }
        var waiting = task
        waiting.status = .pending
        waiting.attempts -= 1
        waiting.missingSince = since
        waiting.outcome = .failure(error)
        waiting.dueAt = min(giveUp, nowMs &+ max(1_000, task.backoff.delay(afterAttempt: 1)))
        queue.put(waiting)
        store(waiting, &effects)
        if task.missingSince == nil {
            effects.list.log(.info, "task \(task.id): no module \(LogText.quote(task.module ?? "?")) is loaded; waiting for it up to timeoutMs (\(task.timeoutMs) ms)")
        }
    }

    /// `modules.loaded`: the tasks waiting for module `id` run now.
    public mutating func moduleLoaded(_ id: String, at nowMs: Int64, effects: inout TaskEffects) {
        let waiting = queue.pending.compactMap { ref in queue[ref.id] }.filter { $0.missingSince != nil && $0.module == id }
        for var task in waiting {
            task.dueAt = nowMs
            queue.put(task)
            store(task, &effects)
        }
        pump(at: nowMs, effects: &effects)
    }

    /// Attempts past their timeout fail (-32004 `timeout`, retryable); their late replies are ignored.
    mutating func expireAttempts(at nowMs: Int64, effects: inout TaskEffects) {
        for id in queue.overdue(at: nowMs) {
            guard let task = queue[id] else { continue }
            inFlight.remove(id)
            attemptFailed(task, .timeout(task.timeoutMs), at: nowMs, effects: &effects)
        }
    }

    /// Retries after the backoff if the error is retryable and attempts remain; else failed.
    private mutating func attemptFailed(_ task: QueuedTask, _ error: TaskError, at nowMs: Int64, effects: inout TaskEffects) {
        guard error.isRetryable, task.attempts < task.maxAttempts else {
            finish(task, .failed, .failure(error), at: nowMs, effects: &effects)
            return
        }
        var retry = task
        retry.missingSince = nil
        retry.status = .pending
        retry.dueAt = nowMs &+ task.backoff.delay(afterAttempt: task.attempts)
        retry.outcome = .failure(error)
        queue.put(retry)
        store(retry, &effects)
        effects.list.log(.info, "task \(task.id) (\(LogText.quote(task.target.name))) attempt \(task.attempts) of \(task.maxAttempts) failed "
            + "(\(error.code)): retry at \(retry.dueAt)")
    }

    /// Tasks `running` that no call of this instance serves were interrupted (a kill, a crash, a
    /// swap): retried now if attempts remain (the interrupted one counted), else failed
    /// `interrupted`. Then starts what is due. Run at every start.
    public mutating func recover(at nowMs: Int64, effects: inout TaskEffects) {
        let interrupted = queue.running.filter { !inFlight.contains($0) }.sorted { (queue[$0]?.seq ?? 0) < (queue[$1]?.seq ?? 0) }
        for id in interrupted {
            guard var task = queue[id] else { continue }
            if task.attempts < task.maxAttempts {
                task.status = .pending
                task.dueAt = nowMs
                task.outcome = .failure(TaskError(code: -32000, message: "attempt \(task.attempts) was interrupted", reason: "interrupted"))
                queue.put(task)
                store(task, &effects)
                effects.list.log(.warning, "task \(id) was running when the module stopped: attempt \(task.attempts) counted, retrying")
            } else {
                effects.list.log(.warning, "task \(id) was running when the module stopped, on its last attempt: failed (interrupted)")
                finish(task, .failed, .failure(.interrupted), at: nowMs, effects: &effects)
            }
        }
        pump(at: nowMs, effects: &effects)
    }

    /// The terminal state: stored, a results entry, `task.finished`, waiting readers answered,
    /// `taskEnded`, compaction.
    mutating func finish(_ task: QueuedTask, _ status: TaskStatus, _ outcome: TaskOutcome, at nowMs: Int64, effects: inout TaskEffects) {
        var done = task
        let ran = task.status == .running ? task.startedAt : nil
        let entry = results.append { cursor in
            ResultEntry(cursor: cursor, taskId: task.id, status: status, result: outcome.result, error: outcome.error,
                        attempts: task.attempts, durationMs: ran.map { max(0, nowMs - $0) } ?? 0, completedAt: nowMs,
                        job: task.origin?.jobName)
        }
        done.status = status
        done.missingSince = nil
        done.outcome = outcome
        done.completedAt = nowMs
        done.cursor = entry.cursor
        queue.put(done)
        store(done, &effects)
        effects.list.put(Self.resultKey(entry.cursor), encoding: entry.json)
        effects.list.publish(Topic.taskFinished, event(done).json)
        answerWaiters(at: nowMs, effects: &effects)
        taskEnded(done, at: nowMs, effects: &effects)
        compact(&effects)
    }

    func event(_ task: QueuedTask) -> TaskEvent {
        var scheduled: Int64?
        if case .job(_, let at)? = task.origin { scheduled = at }
        return TaskEvent(taskId: task.id, status: task.status.rawValue, attempts: task.attempts, job: task.origin?.jobName,
                         scheduledAtMs: scheduled, cursor: task.cursor)
    }

    func store(_ task: QueuedTask, _ effects: inout TaskEffects) {
        effects.list.put(Self.taskKey(task.id), encoding: task.json)
    }

    func storeMeta(_ effects: inout TaskEffects) {
        effects.list.put(Self.metaKey, encoding: meta)
    }

    static func taskKey(_ id: String) -> String { "task/\(id)" }
    static let metaKey = "meta/queue"
}
