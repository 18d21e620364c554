/// A plugin whose in-memory state survives a hot swap.
///
/// When modhost swaps version A for version B, it stops A, calls `exportState()` on it, and
/// hands the result to B's `importState(_:from:)` before starting B. The SDK wraps the state
/// in an envelope, `{"schema":N,"state":…}`, where N is `stateSchemaVersion`; when B reads a
/// different schema than A wrote, B's `migrate(_:fromSchema:)` turns the old JSON into B's
/// `State`. A rollback (B back to A) goes through the same path with a newer schema.
///
///     struct Counter: Codable { var count: Int }
///     static let stateSchemaVersion = 2
///     func exportState() -> Counter { Counter(count: count) }
///     func importState(_ state: Counter, from version: String) { count = state.count }
///     static func migrate(_ old: RawJSON, fromSchema: Int) throws -> Counter {
///         Counter(count: try old.decode(V1.self).hits)     // schema 1 called it "hits"
///     }
///
/// State that must survive a restart belongs in `PluginHost.store`; this is for what lives
/// only in memory (caches, counters, in-flight bookkeeping).
public protocol StatefulPlugin: Plugin {
    /// What `exportState` produces and `importState` accepts.
    associatedtype State: Codable & SendableMetatype

    /// The version of `State`'s JSON shape; bump it when the shape changes. Default: 1.
    static var stateSchemaVersion: Int { get }

    /// The state to carry into the next version. Called after `stop`. Throwing makes the
    /// swap fail (and roll back) with the error's description.
    func exportState() throws -> State

    /// Takes over the state exported by the module's version `version`. Called before
    /// `start`; not called when the previous version exported nothing. Throwing makes the
    /// swap fail with the error's description.
    func importState(_ state: State, from version: String) throws

    /// Converts a state written with another schema (older, or newer on rollback) into
    /// `State`. `fromSchema` is 0 when the previous version wrote no SDK envelope (then
    /// `state` is all it exported). Default: decodes `state` as `State` directly, which
    /// works while changes only added optional fields.
    static func migrate(_ state: RawJSON, fromSchema: Int) throws -> State
}

extension StatefulPlugin {
    public static var stateSchemaVersion: Int { 1 }

    public static func migrate(_ state: RawJSON, fromSchema: Int) throws -> State {
        try state.decode(State.self)
    }
}
