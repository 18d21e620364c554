import Foundation

/// One thing an operation of a module's rules asks its plugin to do afterwards, as plain
/// values: the rules (a module's `Core`) touch no host service, and the kit's `EngineHost`
/// (`ModuleKit`) carries each out at the end of the operation.
public enum ModuleEffect: Sendable, Equatable {
    /// Store `value` (encoded, usually JSON) under `key` in the module's store; on disk before
    /// the call that caused it is answered.
    case put(key: String, value: Data)
    /// Remove `key` from the store (not an error if absent).
    case delete(key: String)
    /// Publish an event: `data` is its JSON.
    case publish(topic: String, data: Data)
    /// Send an event notification to one control-channel client only (ABI 1.2 `notify_client`),
    /// subscribed or not: node's task assignments to the agent's own connection. `data` is its
    /// JSON. A client that is gone is skipped (logged at debug): the module hears of it through
    /// `host.client_disconnected`.
    case notify(client: UInt64, topic: String, data: Data)
    /// A line for the host's log. Quote outside text in it with `LogText.quote`.
    case log(ModuleLogLevel, String)
    /// Answer a call the rules held open (`PendingCallID`) with `json`, one JSON value.
    case reply(PendingCallID, json: Data)
    /// Fail a call the rules held open.
    case fail(PendingCallID, ModuleFailure)
}

/// What one operation of a module's rules collected for its plugin to do: the shape a core's
/// own effects type adopts so the kit can apply it (a core may also use `ModuleEffectList`).
///
/// `forEachEffect` hands them over in the order they are to be carried out; yield store
/// changes before the events and replies they explain, so that nobody hears of a change that
/// could still be lost.
public protocol ModuleEffects: Sendable {
    /// No effects: what an operation starts with.
    init()
    /// Calls `body` with each effect, in order.
    func forEachEffect(_ body: (ModuleEffect) -> Void)
}

/// The level of a `ModuleEffect.log` line: the SDK's levels, which a core does not import.
public enum ModuleLogLevel: Int32, Sendable, Equatable, CaseIterable {
    case trace = 0, debug, info, notice, warning, error, critical
}

/// A call the rules hold open until its answer is known (a refresh to finish, a node's result):
/// the kit hands the rules this id for a call parked with `EngineHost.perform(parking:)`, and
/// the rules answer it later with `.reply` or `.fail`.
public struct PendingCallID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "pending call \(rawValue)" }
}
