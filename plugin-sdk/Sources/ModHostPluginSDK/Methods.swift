#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The methods and event handlers of a plugin type, declared once in `Plugin.register(_:)`.
///
///     static func register(_ methods: inout Methods<Calc>) {
///         methods.add("subtract", params: ["minuend", "subtrahend"]) { (_, p: Operands) in
///             p.minuend - p.subtrahend
///         }
///         methods.add("version") { calc in calc.version }                  // no params
///         methods.add("reset") { (calc, _: JSONValue) in calc.reset() } // any params; null
///         methods.on("calc.cleared") { (calc, event: Cleared) in calc.forget(event.id) }
///     }
///
/// Each handler receives the instance and its decoded params and returns an `Encodable`
/// result (or nothing: the result is `null`). What it throws fails the call as described on
/// `PluginError`. Handlers run on the host's thread for the instance, one at a time with its
/// other entries unless the plugin `isConcurrent`. `CallInfo.current` tells a handler which
/// client asked and how long its caller waits.
///
/// **Params.** Named params (a JSON object) decode into the handler's `Decodable` type
/// directly. If the method declares `params:` names, positional params (a JSON array) are
/// mapped onto those names first, so `[42, 23]` and `{"minuend": 42, "subtrahend": 23}` both
/// work; an array of another length fails with -32602. A request without params arrives as
/// `null`, which a type whose fields are all optional (or that has none) decodes as `{}`.
///
/// **Results.** Any `Encodable`; a `RawJSON` is handed to the host as it is, without being
/// parsed or encoded again (`ResultWriter`): return one when the module already holds the
/// answer as JSON.
///
/// **Answering later** (`addPending`): the handler gets a `CallReply` to keep and complete once
/// the answer is known, from any thread. **Async handlers** (`async throws`) run in a `Task`
/// that completes the call when they return (`Methods+Async.swift`). **Events** (`on`): see
/// `Methods+Events.swift`.
public struct Methods<P: Plugin>: Sendable {
    private(set) var handlers: [String: MethodHandler<P>] = [:]
    /// Method names in registration order, for the descriptor.
    private(set) var names: [String] = []
    /// Event handlers by exact topic, and those registered for a pattern (`*`), in order.
    private(set) var events: [String: EventHandler<P>] = [:]
    private(set) var patterns: [(pattern: String, handler: EventHandler<P>)] = []
    /// The topics and patterns of `on`, in registration order: the descriptor's subscriptions.
    private(set) var topics: [String] = []

    init() {}

    mutating func insert(_ name: String, _ handler: MethodHandler<P>) {
        precondition(!name.isEmpty, "a method name must not be empty")
        precondition(handlers[name] == nil, "method \"\(name)\" is registered twice in \(P.self)")
        handlers[name] = handler
        names.append(name)
    }

    mutating func insert(topic: String, _ handler: EventHandler<P>) {
        precondition(!topic.isEmpty, "an event topic must not be empty")
        precondition(!topics.contains(topic), "event topic \"\(topic)\" is handled twice in \(P.self)")
        if topic.contains("*") {
            patterns.append((topic, handler))
        } else {
            events[topic] = handler
        }
        topics.append(topic)
    }

    // MARK: - Synchronous handlers

    /// Adds a method whose params decode as `Params` and whose result is encoded as JSON.
    ///
    /// - Parameters:
    ///   - name: the method name; callers reach it as `"<id>.<name>"`.
    ///   - names: the field names positional params map onto, in order; empty for none.
    ///   - body: the handler.
    public mutating func add<Params: Decodable & SendableMetatype, Reply: Encodable & SendableMetatype>(
        _ name: String, params names: [String] = [], _ body: @escaping @Sendable (P, Params) throws -> Reply
    ) {
        let shape = ParamsShape(names: names)
        let writer = ResultWriter<Reply>()
        insert(name, MethodHandler { plugin, call in
            call.complete(writer) { try body(plugin, shape.decode(Params.self, from: call.params, using: call.core.decoder)) }
        })
    }

    /// Adds a method whose params decode as `Params` and whose result is `null`.
    public mutating func add<Params: Decodable & SendableMetatype>(
        _ name: String, params names: [String] = [], _ body: @escaping @Sendable (P, Params) throws -> Void
    ) {
        let shape = ParamsShape(names: names)
        insert(name, MethodHandler { plugin, call in
            call.completeWithNull {
                try body(plugin, shape.decode(Params.self, from: call.params, using: call.core.decoder))
            }
        })
    }

    /// Adds a method that takes no params (`null`, `[]` or `{}`; anything else is -32602).
    public mutating func add<Reply: Encodable & SendableMetatype>(
        _ name: String, _ body: @escaping @Sendable (P) throws -> Reply
    ) {
        let writer = ResultWriter<Reply>()
        insert(name, MethodHandler { plugin, call in
            call.complete(writer) {
                try ParamsShape.expectNone(call.params)
                return try body(plugin)
            }
        })
    }

    /// Adds a method that takes no params and whose result is `null`.
    public mutating func add(_ name: String, _ body: @escaping @Sendable (P) throws -> Void) {
        insert(name, MethodHandler { plugin, call in
            call.completeWithNull {
                try ParamsShape.expectNone(call.params)
                try body(plugin)
            }
        })
    }

    // MARK: - Answering later

    /// Adds a method that answers through `reply`, now or later, from any thread: keep the
    /// reply beside what the call waits for and complete it when that arrives (`CallReply`).
    /// Bad params fail at once; so does what `body` throws (unless the reply was already used).
    ///
    ///     methods.addPending("access", params: ["id"]) { (token, p: Access, reply) in
    ///         token.refreshes.join(p.id, reply)          // answered when the refresh ends
    ///     }
    public mutating func addPending<Params: Decodable & SendableMetatype>(
        _ name: String, params names: [String] = [], _ body: @escaping @Sendable (P, Params, CallReply) throws -> Void
    ) {
        let shape = ParamsShape(names: names)
        insert(name, MethodHandler { plugin, call in
            let params: Params
            do {
                params = try shape.decode(Params.self, from: call.params, using: call.core.decoder)
            } catch {
                return call.fail(error)
            }
            return call.completeThroughReply { try body(plugin, params, $0) }
        })
    }
}
