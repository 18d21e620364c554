import Foundation
import ModHostJSON
import ModHostSupport

/// A ready-made `ModuleEffects`: a list a core appends to, encoding values as JSON as they come.
///
///     effects.put("count/\(name)", encoding: count)
///     effects.publish("hello.greeted", ["name": .string(name), "count": .int(count)] as JSONValue)
///     effects.reply(waiter, Answer(value: 3))
///
/// A value that cannot be encoded (a `Double` NaN) is not written: the list gets an error line
/// for the log instead, naming the key or topic.
public struct ModuleEffectList: ModuleEffects, Equatable {
    public private(set) var effects: [ModuleEffect] = []

    public init() {}

    public func forEachEffect(_ body: (ModuleEffect) -> Void) {
        for effect in effects { body(effect) }
    }

    public mutating func append(_ effect: ModuleEffect) {
        effects.append(effect)
    }

    /// Stores `value` as JSON under `key`.
    public mutating func put(_ key: String, encoding value: some Encodable) {
        guard let data = encode(value, for: "store record \(LogText.quote(key))") else { return }
        effects.append(.put(key: key, value: data))
    }

    public mutating func delete(_ key: String) {
        effects.append(.delete(key: key))
    }

    /// Publishes `topic` with `data` as JSON.
    public mutating func publish(_ topic: String, _ data: some Encodable) {
        guard let json = encode(data, for: "event \(topic)") else { return }
        effects.append(.publish(topic: topic, data: json))
    }

    /// Sends `topic` with `data` as JSON to client `client` alone (`ModuleEffect.notify`).
    public mutating func notify(client: UInt64, _ topic: String, _ data: some Encodable) {
        guard let json = encode(data, for: "event \(topic)") else { return }
        effects.append(.notify(client: client, topic: topic, data: json))
    }

    public mutating func log(_ level: ModuleLogLevel, _ text: String) {
        effects.append(.log(level, text))
    }

    /// Answers the held call `id` with `result` as JSON.
    public mutating func reply(_ id: PendingCallID, _ result: some Encodable) {
        guard let json = encode(result, for: "the answer to \(id)") else {
            effects.append(.fail(id, .internalError("the module could not encode its answer")))
            return
        }
        effects.append(.reply(id, json: json))
    }

    public mutating func fail(_ id: PendingCallID, _ failure: ModuleFailure) {
        effects.append(.fail(id, failure))
    }

    private static let encoder = JSONEncoder()

    private mutating func encode(_ value: some Encodable, for what: String) -> Data? {
        if let value = value as? JSONValue, value.isFinite { return Data(value.jsonBytes) }
        do {
            return try Self.encoder.encode(value)
        } catch {
            effects.append(.log(.error, "could not encode \(what): \(error)"))
            return nil
        }
    }
}
