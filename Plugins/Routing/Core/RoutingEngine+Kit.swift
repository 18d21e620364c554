import ModuleSupport

// The routing rules as the module kit runs them (ModuleKit's `EngineHost`, in the plugin): the
// engine's swap state and its idle-expiry wake-up.
extension RoutingEngine: ModuleEngine {}

/// `{sessionId}`: `routing.get`, `routing.clear`, `routing.takeStopMessage`.
public struct SessionQuery: Codable, Sendable {
    public var sessionId: String
}

/// `routing.applyInstructions {sessionId, text}`.
public struct InstructionsRequest: Codable, Sendable {
    public var sessionId: String
    public var text: String
}
