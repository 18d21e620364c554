import ModHostJSON
import ModuleSupport

/// The jobs on the queue: a due run is a queue task (`origin: .job`), its end (`taskEnded`)
/// recorded in the job's history and releasing a run that waits its turn (`overlap: queue`).
extension TaskEngine {
    /// `task.register`.
    public mutating func register(_ request: RegisterRequest, at nowMs: Int64, effects: inout TaskEffects) throws(ModuleFailure) -> JobView {
        try jobs.register(request, at: nowMs, effects: &effects.list)
    }

    /// `task.list`: the runs still in the queue show its status (`running` once started).
    public func listJobs(_ request: ListRequest) throws(ModuleFailure) -> ListAnswer {
        var answer = try jobs.list(request)
        for index in answer.jobs.indices {
            for (at, run) in answer.jobs[index].runs.enumerated() where run.status.isActive {
                guard let id = run.taskId, let task = queue[id], task.status == .running else { continue }
                answer.jobs[index].runs[at].status = .running
                answer.jobs[index].runs[at].startedAt = task.startedAt
                if at == 0 { answer.jobs[index].lastRun = answer.jobs[index].runs[0] }
            }
        }
        return answer
    }

    public mutating func enable(_ name: String, at nowMs: Int64, effects: inout TaskEffects) throws(ModuleFailure) -> JobView {
        try jobs.enable(name, at: nowMs, effects: &effects.list)
    }

    public mutating func disable(_ name: String, at nowMs: Int64, effects: inout TaskEffects) throws(ModuleFailure) -> JobView {
        try jobs.disable(name, at: nowMs, effects: &effects.list)
    }

    public mutating func remove(_ name: String, effects: inout TaskEffects) throws(ModuleFailure) -> RemoveAnswer {
        RemoveAnswer(removed: try jobs.remove(name, effects: &effects.list))
    }

    /// `task.runNow`: the run as it stands once submitted (`pending` or `running` with its task
    /// id, already `succeeded` for a publish, or `queued` / `skipped` by `overlap`).
    public mutating func runNow(_ name: String, at nowMs: Int64, effects: inout TaskEffects) throws(ModuleFailure) -> RunNowAnswer {
        let (run, fire) = try jobs.runNow(name, at: nowMs, effects: &effects.list)
        if let fire { submitJobRuns([fire], at: nowMs, effects: &effects) }
        let now = try listJobs(ListRequest(name: name)).jobs.first?.runs.first { $0.run == run.run }
        return RunNowAnswer(name: name, run: now ?? run)
    }

    /// The `job/<name>` records of the last run (restore at start).
    public mutating func loadJobs(_ records: [(name: String, value: JobRecord)], effects: inout TaskEffects) {
        jobs.load(records, effects: &effects.list)
    }

    /// At start (after a restart or a hot swap): the default jobs from config, the runs the
    /// queue no longer has ended, then the runs due now (missed while down: `misfire`).
    public mutating func startJobs(at nowMs: Int64, effects: inout TaskEffects) {
        jobs.installDefaults(defaultJobs, at: nowMs, effects: &effects.list)
        for id in jobs.activeTaskIds {
            if let task = queue[id] {
                if task.status.isTerminal { jobEnded(task, at: nowMs, effects: &effects) }
            } else {
                let lost = JobOutcome(status: .failed, errorCode: -32000, errorMessage: "its task \(id) is not in the queue any more")
                submitJobRuns(jobs.ended(id, lost, at: nowMs, effects: &effects.list), at: nowMs, effects: &effects)
            }
        }
        submitJobRuns(jobs.releaseStranded(at: nowMs, effects: &effects.list), at: nowMs, effects: &effects)
        fireDueJobs(at: nowMs, effects: &effects)
    }

    /// The wake-up's part: every job whose time came.
    mutating func fireDueJobs(at nowMs: Int64, effects: inout TaskEffects) {
        submitJobRuns(jobs.takeDue(at: nowMs, effects: &effects.list), at: nowMs, effects: &effects)
    }

    /// Queues each run as a task, then records its task id. A task that ends within its own
    /// submit (a publish) or within this loop is recorded once the book knows its id.
    mutating func submitJobRuns(_ fires: [JobFire], at nowMs: Int64, effects: inout TaskEffects) {
        let outer = !submittingJobs
        submittingJobs = true
        defer { if outer { submittingJobs = false } }
        var fires = fires
        while !fires.isEmpty {
            let fire = fires.removeFirst()
            do {
                // A default job's call to a module not loaded fails at once: a skipped run.
                let spec = TaskSpec(target: fire.target, dueAt: nowMs, timeoutMs: jobs.timeoutMs(fire.name),
                                    waitsForModule: !jobs.isDefault(fire.name))
                let answer = try submit(spec, origin: .job(name: fire.name, scheduledAtMs: fire.scheduledAt), at: nowMs, effects: &effects)
                jobs.submitted(fire, taskId: answer.taskId, effects: &effects.list)
            } catch {
                fires += jobs.submitFailed(fire, "the queue refused the run: \(error.message)", at: nowMs, effects: &effects.list)
            }
            guard outer else { continue }
            while !endedEarly.isEmpty {
                let task = endedEarly.removeFirst()
                fires += jobs.ended(task.id, Self.jobOutcome(task), at: nowMs, effects: &effects.list)
            }
        }
    }

    /// `taskEnded`'s part for a job's task.
    mutating func jobEnded(_ task: QueuedTask, at nowMs: Int64, effects: inout TaskEffects) {
        if submittingJobs {
            endedEarly.append(task)
            return
        }
        submitJobRuns(jobs.ended(task.id, Self.jobOutcome(task), at: nowMs, effects: &effects.list), at: nowMs, effects: &effects)
    }

    static func jobOutcome(_ task: QueuedTask) -> JobOutcome {
        let status: JobOutcome.Status = switch task.status {
        case .succeeded: .succeeded
        case .canceled: .canceled
        default: .failed
        }
        let error = task.outcome?.error
        return JobOutcome(status: status, result: task.outcome?.result, errorCode: error?.code, errorMessage: error?.message,
                          startedAt: task.startedAt)
    }
}
