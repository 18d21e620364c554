/// Async handlers (`async throws`) return `MH_PENDING` to the host and run in a `Task` that
/// completes the call later. They are only available when the plugin type is `Sendable` and
/// their params are `Sendable`, because the task runs while the host goes on calling the
/// instance: keep shared state in a `Mutex` or an actor. Params are decoded before the task
/// starts, so bad params fail at once. `CallInfo.current` is the call's inside the task. The
/// SDK cancels these tasks when the instance stops. Never hop to the main actor.
extension Methods where P: Sendable {
    /// Adds an async method: the call completes when `body` returns, from a task.
    public mutating func add<Params: Decodable & Sendable, Reply: Encodable & SendableMetatype>(
        _ name: String, params names: [String] = [], _ body: @escaping @Sendable (P, Params) async throws -> Reply
    ) {
        let shape = ParamsShape(names: names)
        let writer = ResultWriter<Reply>()
        insert(name, MethodHandler { plugin, call in
            let params: Params
            do {
                params = try shape.decode(Params.self, from: call.params, using: call.core.decoder)
            } catch {
                return call.fail(error)
            }
            return call.completeLater(writer) { try await body(plugin, params) }
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
        let writer = ResultWriter<Reply>()
        insert(name, MethodHandler { plugin, call in
            do {
                try ParamsShape.expectNone(call.params)
            } catch {
                return call.fail(error)
            }
            return call.completeLater(writer) { try await body(plugin) }
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
