import ModHostPluginSDK
import ModuleKit
import TaskCore

/// The jobs' methods: `task.register`, `task.list`, `task.enable`, `task.disable`,
/// `task.remove`, `task.runNow` (the rules: TaskCore's JobBook and TaskEngine+Jobs).
extension TaskModule {
    static func registerJobs(_ methods: inout Methods<TaskModule>) {
        methods.add("register") { (task, p: RegisterRequest) in
            try task.engine.perform { try $0.register(p, at: $1, effects: &$2) }
        }
        methods.add("list") { (task, p: ListRequest) in
            try task.engine.read { engine throws(ModuleFailure) in try engine.listJobs(p) }
        }
        methods.add("enable", params: ["name"]) { (task, p: JobName) in
            try task.engine.perform { try $0.enable(p.name, at: $1, effects: &$2) }
        }
        methods.add("disable", params: ["name"]) { (task, p: JobName) in
            try task.engine.perform { try $0.disable(p.name, at: $1, effects: &$2) }
        }
        methods.add("remove", params: ["name"]) { (task, p: JobName) in
            try task.engine.perform { try $0.remove(p.name, effects: &$2) }
        }
        methods.add("runNow", params: ["name"]) { (task, p: JobName) in
            try task.engine.perform { try $0.runNow(p.name, at: $1, effects: &$2) }
        }
    }
}
