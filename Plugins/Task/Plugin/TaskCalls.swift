import ModHostJSON
import ModHostPluginSDK
import ModHostSupport
import ModuleKit
import Synchronization
import TaskCore

/// Makes the calls the queue asks for (`TaskCall`): each through the registry with
/// `PluginHost.call(_:params:deadline:reply:)` (ABI 1.2 `call_v2`), its deadline the task's
/// `timeoutMs`, so a task may run longer than the host's `--call-timeout-ms`. The reply goes
/// back into the engine as `callEnded`. The queue's own timeout runs on the host clock (the
/// engine's wake-up); the call's deadline is the host's monotonic clock, as every call's.
///
/// Params are passed on and never logged: they may hold secrets.
final class TaskCalls: Sendable {
    let host: PluginHost
    /// Off between `stop` and the next `start`: a reply arriving then belongs to an instance
    /// whose state was handed on (or that stopped), and is dropped; the task counts as interrupted.
    private let open = Mutex(false)

    init(host: PluginHost) {
        self.host = host
    }

    func start() { open.withLock { $0 = true } }
    func stop() { open.withLock { $0 = false } }

    func carryOut(_ calls: [TaskCall], engine: EngineHost<TaskEngine>) {
        // A shadow causes no outside effect (MODULES.md): its tasks stay `running` in its own
        // copy of the queue, and the serving instance makes the calls.
        guard !host.isShadow else { return }
        for call in calls {
            do {
                try host.call(call.method, params: call.params ?? .null, deadline: .milliseconds(call.timeoutMs)) { [self] reply in
                    guard open.withLock({ $0 }) else { return }
                    ended(call, Self.outcome(reply), engine)
                }
            } catch {
                let refused = (error as? PluginError).map { TaskError(code: Int($0.code.rawValue), message: $0.message) }
                    ?? TaskError(code: -32603, message: "the host refused the call: \(error)")
                ended(call, .failure(refused), engine)
            }
        }
    }

    private func ended(_ call: TaskCall, _ outcome: Result<JSONValue, TaskError>, _ engine: EngineHost<TaskEngine>) {
        do {
            try engine.perform { $0.callEnded(call.taskId, attempt: call.attempt, outcome: outcome, at: $1, effects: &$2) }
        } catch {
            host.log(.error, "task \(call.taskId): could not record the end of attempt \(call.attempt): \(error)")
        }
    }

    static func outcome(_ reply: Result<RawJSON, PluginError>) -> Result<JSONValue, TaskError> {
        switch reply {
        case .success(let json):
            guard !json.data.isEmpty else { return .success(.null) }
            do {
                return .success(try JSONValueDecoder().decode(JSONValue.self, from: json.data))
            } catch {
                return .failure(TaskError(code: -32603, message: "the reply is not JSON the queue can keep: \(error)"))
            }
        case .failure(let error):
            var data: JSONValue?
            if let raw = error.data, !raw.data.isEmpty { data = try? JSONValueDecoder().decode(JSONValue.self, from: raw.data) }
            return .failure(TaskError(code: Int(error.code.rawValue), message: error.message, reason: data?["reason"].string, data: data))
        }
    }
}
