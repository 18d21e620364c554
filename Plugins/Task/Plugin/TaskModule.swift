// Task: cron schedules with time zones and DST, a persistent task queue with retries,
// timeouts and concurrency limits, and its results with cursors for modhost. The rules live in
// TaskCore (pure, unit-tested); TaskCalls makes the calls tasks ask for; this file is the
// plugin around them, on ModuleKit. Docs: ../README.md.
import Foundation
import ModHostPluginSDK
import ModuleKit
import TaskCore

/// Named `TaskModule`, not `Task`, so Swift's own `Task` stays reachable.
final class TaskModule: EngineModule {
    static let id = "task"
    static let version = "1.1.0"
    static let description = "Cron schedules with time zones and DST, a persistent task queue and its results"

    let engine: EngineHost<TaskEngine>
    let calls: TaskCalls

    init(host: PluginHost, config: RawJSON) throws {
        let config = try host.readConfig(TaskConfig.self, from: config)
        if let problem = config.problem() { throw PluginError.invalidParams("invalid config: \(problem)") }
        // TimeZone.current follows the process's TZ: a schedule without a zone runs on the host's.
        engine = EngineHost(host: host, TaskEngine(config: config, defaultZone: .current))
        calls = TaskCalls(host: host)
        engine.carryOutside { [calls] engine, effects in
            if !effects.calls.isEmpty { calls.carryOut(effects.calls, engine: engine) }
        }
        // A hot swap waits for the calls in flight (long polls included) before it stops the
        // old instance, and initializes the new one first: this tells the old one to answer its
        // long polls now, so the swap's drain does not wait up to their waitMs. Nobody else
        // acts on it (nothing is waiting at a first load); a shadow publishes nothing.
        if !host.isShadow { try? host.publish(Self.handover, json: RawJSON(Data(#"{"version":"\#(Self.version)"}"#.utf8))) }
    }

    /// The topic of that signal.
    static let handover = "task.handover"

    /// The queue of the last run: tasks, results, consumers' positions, the counters; the jobs.
    func restore(_ records: StoredRecords, into task: inout TaskEngine, at now: Int64, effects: inout TaskEffects) throws {
        task.load(tasks: try records.read("task/", as: QueuedTask.self), results: try records.read("result/", as: ResultEntry.self),
                  consumers: Dictionary(try records.readNamed("consumer/", as: Int64.self).map { ($0.name, $0.value) },
                                        uniquingKeysWith: { $1 }),
                  meta: try records.read("meta/queue", as: QueueMeta.self).first)
        task.loadJobs(try records.readNamed("job/", as: JobRecord.self), effects: &effects)
    }

    /// Restores (or takes the swapped state), then recovers tasks a kill or swap interrupted and
    /// starts what is due, jobs' runs missed meanwhile included.
    func start() throws {
        calls.start()
        try engine.start { records, task, now, effects in try restore(records, into: &task, at: now, effects: &effects) }
        try engine.perform { $0.recover(at: $1, effects: &$2) }
        try engine.perform { $0.startJobs(at: $1, effects: &$2) }
    }

    /// Long polls answer now (no entries: the client polls again), so a hot swap's drain does
    /// not wait for them; replies of calls still under way are dropped from here on.
    func stop() {
        _ = try? engine.perform { engine, _, effects in engine.releaseWaiters(effects: &effects) }
        calls.stop()
        engine.stop()
    }

    static func register(_ methods: inout Methods<TaskModule>) {
        registerJobs(&methods)
        methods.add("preview") { (task, p: PreviewRequest) in
            try task.engine.perform { engine, now, _ in try engine.preview(p, at: now) }
        }
        methods.add("submit") { (task, p: SubmitRequest) in
            try task.engine.perform { try $0.submit(p, at: $1, effects: &$2) }
        }
        methods.add("cancel", params: ["taskId"]) { (task, p: TaskIDRequest) in
            try task.engine.perform { $0.cancel(p.taskId, at: $1, effects: &$2) }
        }
        methods.add("get", params: ["taskId"]) { (task, p: TaskIDRequest) in
            try task.engine.read { engine throws(ModuleFailure) in try engine.get(p.taskId) }
        }
        methods.on("modules.loaded") { (task, p: Loaded) in
            try task.engine.perform { $0.moduleLoaded(p.id, at: $1, effects: &$2) }
        }
        methods.on(handover) { (task, _: RawJSON) in
            try task.engine.perform { engine, _, effects in engine.releaseWaiters(effects: &effects) }
        }
        methods.addPending("results") { (task, p: ResultsRequest, reply) in
            try task.engine.perform(parking: reply) { try $0.results(p, call: $2, at: $1, effects: &$3) }
        }
    }
}

/// `modules.loaded`'s data (the host's): the module's id.
struct Loaded: Decodable, Sendable {
    let id: String
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { TaskModule.pluginEntry() }
