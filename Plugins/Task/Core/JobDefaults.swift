import ModHostJSON
import ModuleSupport

/// One default job's changes in the task config: `defaultJobs: {"token-refresh": {"enabled": false}}`.
public struct DefaultJobConfig: Codable, Sendable {
    public var schedule: String?
    public var timezone: String?
    public var params: JSONValue?
    public var overlap: String?
    public var misfire: String?
    public var enabled: Bool?
    public var timeoutMs: Int64?
}

/// The default jobs (MODULES.md): session eviction hourly, session cleanup every 6 hours, token
/// refresh every minute. A default job whose module is not loaded only records `skipped` runs.
public enum JobDefaults {
    public static let jobs: [(name: String, schedule: String, method: String)] = [
        ("session-evict", "@hourly", "session.evictInactive"),
        ("session-cleanup", "0 */6 * * *", "session.cleanup"),
        ("token-refresh", "* * * * *", "token.refreshDue"),
    ]

    /// A default job as config has it; `configuresEnabled`: config says `enabled` (else a
    /// stored `task.disable` stands).
    public struct Configured: Sendable {
        public var definition: JobDefinition
        public var configuresEnabled: Bool
    }

    /// The default jobs' definitions with the config's changes; -32602 naming the config key.
    public static func definitions(_ config: [String: DefaultJobConfig]?) throws(ModuleFailure) -> [Configured] {
        let names = jobs.map(\.name)
        if let unknown = config?.keys.sorted().first(where: { !names.contains($0) }) {
            throw .invalidInput("task.defaultJobs: there is no default job \(CronField.quoted(unknown[...])) (they are \(names.joined(separator: ", ")))")
        }
        var definitions: [Configured] = []
        for job in jobs {
            let change = config?[job.name]
            let request = RegisterRequest(
                name: job.name, schedule: change?.schedule ?? job.schedule, timezone: change?.timezone,
                call: JobCall(method: job.method, params: change?.params), overlap: change?.overlap, misfire: change?.misfire,
                enabled: change?.enabled, timeoutMs: change?.timeoutMs)
            do {
                let definition = try JobDefinition(request, isDefault: true)
                _ = try TaskEngine.schedule(definition.schedule)
                if let zone = definition.timezone { _ = try CronZone.named(zone, default: nil) }
                definitions.append(Configured(definition: definition, configuresEnabled: change?.enabled != nil))
            } catch {
                throw .invalidInput("task.defaultJobs.\(job.name): \(error.message)")
            }
        }
        return definitions
    }
}

extension JobBook {
    /// What a hot swap carries over: every job's record.
    public struct State: Codable, Sendable {
        public var records: [JobRecord]
        public var lastSeen: Int64
    }

    public func exportState() -> State {
        State(records: jobs.values.map(\.record), lastSeen: lastSeen)
    }

    /// Takes over the jobs of the previous version (its records, re-parsed in this one's zone).
    public mutating func importState(_ state: State) {
        var ignored = ModuleEffectList()
        load(state.records.map { ($0.definition.name, $0) }, effects: &ignored)
        lastSeen = max(lastSeen, state.lastSeen)
    }

    /// The `job/<name>` records of the last run, each going on from its `evaluatedAt` (so runs
    /// missed while the host was down are due now). A run handed to the queue without its task
    /// id on record (a crash between the two) failed; a record that no longer parses is dropped.
    public mutating func load(_ records: [(name: String, value: JobRecord)], effects: inout ModuleEffectList) {
        for (name, record) in records {
            var record = record
            guard record.definition.name == name, let (schedule, zone) = try? parse(record.definition) else {
                effects.log(.warning, "dropping job record \(CronField.quoted(name[...])): its schedule or time zone does not parse any more")
                effects.delete(Self.key(name))
                continue
            }
            for lost in record.active where lost.taskId == nil {
                if let index = record.history.lastIndex(where: { $0.run == lost.run }) {
                    record.history[index].status = .failed
                    record.history[index].note = "interrupted before it reached the queue"
                }
            }
            record.active.removeAll { $0.taskId == nil }
            let job = Job(record: record, schedule: schedule, zone: zone,
                          nextAt: record.definition.enabled ? schedule.next(after: record.evaluatedAt, in: zone) : nil)
            for active in record.active { if let id = active.taskId { tasks[id] = name } }
            lastSeen = max(lastSeen, record.evaluatedAt)
            if let next = job.nextAt { heap.insert(next, name) }
            jobs[name] = job
        }
        trimHeap()
    }

    /// Sets the default jobs from config (at start, and after a hot swap): a stored one keeps
    /// its history and its place in time, and its `task.enable` / `task.disable` unless config
    /// says `enabled`.
    public mutating func installDefaults(_ defaults: [JobDefaults.Configured], at now: Int64, effects: inout ModuleEffectList) {
        noteTime(now, effects: &effects)
        for configured in defaults {
            var definition = configured.definition
            defaultNames.insert(definition.name)
            guard let (schedule, zone) = try? parse(definition) else { continue }  // checked when config was read
            guard var job = jobs[definition.name] else {
                put(definition, schedule: schedule, zone: zone, at: now, effects: &effects)
                continue
            }
            if !configured.configuresEnabled && job.definition.isDefault { definition.enabled = job.definition.enabled }
            guard job.definition != definition else { continue }
            var record = job.record
            // Enabled now after being disabled: its schedule starts from now, as task.enable's.
            if definition.enabled && !record.definition.enabled { record.evaluatedAt = now }
            record.definition = definition
            if !definition.enabled { record.waiting = [] }
            job = Job(record: record, schedule: schedule, zone: zone,
                      nextAt: definition.enabled ? schedule.next(after: record.evaluatedAt, in: zone) : nil)
            store(job, effects: &effects)
        }
    }

    /// The task ids of runs the queue has (pending or running), to check against it at start.
    public var activeTaskIds: [String] { tasks.keys.sorted() }
}
