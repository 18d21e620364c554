#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The methods of a plugin type, declared once in `Plugin.register(_:)`.
///
///     static func register(_ methods: inout Methods<Calc>) {
///         methods.add("subtract", params: ["minuend", "subtrahend"]) { (_, p: Operands) in
///             p.minuend - p.subtrahend
///         }
///         methods.add("version") { calc in calc.version }                  // no params
///         methods.add("reset") { (calc, _: JSONValue) in calc.reset() } // any params; null
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
/// **Async handlers** (`async throws`) return `MH_PENDING` to the host and run in a `Task`
/// that completes the call later. They are only available when the plugin type is `Sendable`
/// and their params are `Sendable`, because the task runs while the host goes on calling the
/// instance: keep shared state in a `Mutex` or an actor. Params are decoded before the task
/// starts, so bad params fail at once. The SDK cancels these tasks when the instance stops.
/// Never hop to the main actor.
public struct Methods<P: Plugin>: Sendable {
    private(set) var handlers: [String: MethodHandler<P>] = [:]
    /// Method names in registration order, for the descriptor.
    private(set) var names: [String] = []

    init() {}

    private mutating func insert(_ name: String, _ handler: MethodHandler<P>) {
        precondition(!name.isEmpty, "a method name must not be empty")
        precondition(handlers[name] == nil, "method \"\(name)\" is registered twice in \(P.self)")
        handlers[name] = handler
        names.append(name)
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
        insert(name, MethodHandler { plugin, call in
            call.complete { try body(plugin, shape.decode(Params.self, from: call.params, using: call.core.decoder)) }
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
        insert(name, MethodHandler { plugin, call in
            call.complete {
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
}

extension Methods where P: Sendable {
    // MARK: - Async handlers

    /// Adds an async method: the call completes when `body` returns, from a task.
    public mutating func add<Params: Decodable & Sendable, Reply: Encodable & SendableMetatype>(
        _ name: String, params names: [String] = [], _ body: @escaping @Sendable (P, Params) async throws -> Reply
    ) {
        let shape = ParamsShape(names: names)
        insert(name, MethodHandler { plugin, call in
            let params: Params
            do {
                params = try shape.decode(Params.self, from: call.params, using: call.core.decoder)
            } catch {
                return call.fail(error)
            }
            return call.completeLater { try await body(plugin, params) }
        })
    }

    /// Adds an async method whose result is `null`.
    public mutating func add<Params: Decodable & Sendable>(
        _ name: String, params names: [String] = [], _ body: @escaping @Sendable (P, Params) async throws -> Void
    ) {
        add(name, params: names) { (plugin: P, params: Params) async throws -> JSONValue in
            try await body(plugin, params)
            return .null
        }
    }

    /// Adds an async method that takes no params.
    public mutating func add<Reply: Encodable & SendableMetatype>(
        _ name: String, _ body: @escaping @Sendable (P) async throws -> Reply
    ) {
        insert(name, MethodHandler { plugin, call in
            do {
                try ParamsShape.expectNone(call.params)
            } catch {
                return call.fail(error)
            }
            return call.completeLater { try await body(plugin) }
        })
    }

    /// Adds an async method that takes no params and whose result is `null`.
    public mutating func add(_ name: String, _ body: @escaping @Sendable (P) async throws -> Void) {
        add(name) { (plugin: P) async throws -> JSONValue in
            try await body(plugin)
            return .null
        }
    }
}
