import ModHostJSON
import ModuleSupport

/// What a task operation asks the plugin to do: the kit's effects (store writes, events, log
/// lines, answers to held calls) and the calls only the plugin can make (`calls`), made after
/// them. Each call's reply comes back into the engine as `TaskEngine.callEnded`.
public struct TaskEffects: ModuleEffects, Equatable {
    public var list = ModuleEffectList()
    public var calls: [TaskCall] = []

    public init() {}

    public func forEachEffect(_ body: (ModuleEffect) -> Void) {
        list.forEachEffect(body)
    }
}

/// One attempt's call: `method` with `params` through the registry, its deadline `timeoutMs`
/// (ABI 1.2 `call_v2`: longer than the host's `--call-timeout-ms` if need be).
public struct TaskCall: Sendable, Equatable {
    public var taskId: String
    /// Which attempt this is: a reply for another (an earlier, timed-out one) is ignored.
    public var attempt: Int
    public var method: String
    public var params: JSONValue?
    public var timeoutMs: Int64
}
