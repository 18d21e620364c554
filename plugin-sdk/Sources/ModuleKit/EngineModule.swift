import ModHostPluginSDK
import ModuleSupport

/// A plugin that is glue around a `ModuleEngine`: it keeps an `EngineHost` (created in `init`)
/// and gets its lifecycle from the kit: `start` restores the store's records through `restore`
/// (unless a hot swap handed the state over) and re-arms the engine's timers, `stop` fails the
/// calls still held, and the engine's `State` crosses a hot swap (`StatefulPlugin`).
///
///     final class Hello: EngineModule {
///         static let id = "hello"
///         static let version = "1.0.0"
///         let engine: EngineHost<HelloEngine>
///         init(host: PluginHost, config: RawJSON) throws {
///             engine = EngineHost(host: host, HelloEngine(config: try host.readConfig(HelloConfig.self, from: config)))
///         }
///         func restore(_ records: StoredRecords, into engine: inout HelloEngine, at now: Int64,
///                      effects: inout HelloEngine.Effects) throws {
///             engine.load(try records.readNamed("count/", as: Int.self))
///         }
///         static func register(_ methods: inout Methods<Hello>) { … }
///     }
///
/// A module with more to start (a subscription made at run time, a task) implements `start`
/// itself and calls `engine.start(restore:)` from it; the same for `stop` and `engine.stop()`.
public protocol EngineModule: StatefulPlugin, Sendable where State == Engine.State {
    associatedtype Engine: ModuleEngine

    /// The engine and its host.
    var engine: EngineHost<Engine> { get }

    /// Loads what the last run stored into `engine`, at host time `now`. Default: nothing.
    func restore(_ records: StoredRecords, into engine: inout Engine, at now: Int64, effects: inout Engine.Effects) throws
}

extension EngineModule {
    public func restore(_ records: StoredRecords, into engine: inout Engine, at now: Int64, effects: inout Engine.Effects) throws {}

    public func start() throws {
        try engine.start { records, engine, now, effects in try restore(records, into: &engine, at: now, effects: &effects) }
    }

    public func stop() {
        engine.stop()
    }

    public func exportState() -> State {
        engine.exportState()
    }

    public func importState(_ state: State, from version: String) {
        engine.importState(state, from: version)
    }
}
