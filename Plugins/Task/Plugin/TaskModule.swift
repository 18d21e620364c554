// Task: cron schedules with time zones and DST for modhost. The rules live in TaskCore (pure,
// unit-tested); this file is the plugin around them, on ModuleKit. Docs: ../README.md.
import Foundation
import ModHostPluginSDK
import ModuleKit
import TaskCore

/// Named `TaskModule`, not `Task`, so Swift's own `Task` stays reachable.
final class TaskModule: EngineModule {
    static let id = "task"
    static let version = "1.0.0"
    static let description = "Cron schedules with time zones and DST"

    let engine: EngineHost<TaskEngine>

    init(host: PluginHost, config: RawJSON) throws {
        // TimeZone.current follows the process's TZ: a schedule without a zone runs on the host's.
        engine = EngineHost(host: host, TaskEngine(config: try host.readConfig(TaskConfig.self, from: config), defaultZone: .current))
    }

    static func register(_ methods: inout Methods<TaskModule>) {
        methods.add("preview") { (task, p: PreviewRequest) in
            try task.engine.perform { engine, now, _ in try engine.preview(p, at: now) }
        }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { TaskModule.pluginEntry() }
