import Foundation

/// Params and results of the host's own methods, decoded and encoded with Codable (these are
/// not on the hot path). Decoding errors become `-32602` messages that name the field.
enum HostParams {
    static func decode<T: Decodable>(_ type: T.Type, _ params: [UInt8]?) throws(RPCError) -> T {
        let bytes = try object(params)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw RPCError.invalidParams(describe(error))
        } catch {
            throw RPCError.invalidParams("\(error)")
        }
    }

    static func encode(_ value: some Encodable) throws(RPCError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return [UInt8](try encoder.encode(value))
        } catch {
            throw RPCError.internalError("could not encode the result: \(error)")
        }
    }

    /// `events.publish {topic, data?}`: data is any JSON value, kept as text.
    static func decodePublish(_ params: [UInt8]?) throws(RPCError) -> (String, [UInt8]) {
        let members = try members(params)
        guard let topic = members["topic"] as? String else {
            throw RPCError.invalidParams(members["topic"] == nil ? "missing field \"topic\"" : "\"topic\" must be a string")
        }
        guard !topic.isEmpty else { throw RPCError.invalidParams("\"topic\" must not be empty") }
        guard let data = members["data"] else { return (topic, Array("null".utf8)) }
        return (topic, try json(data))
    }

    /// `modules.load {path, config?}`: config is a JSON object, kept as text.
    static func decodeLoad(_ params: [UInt8]?) throws(RPCError) -> (String, [UInt8]?) {
        let members = try members(params)
        guard let path = members["path"] as? String else {
            throw RPCError.invalidParams(members["path"] == nil ? "missing field \"path\"" : "\"path\" must be a string")
        }
        guard let config = members["config"] else { return (path, nil) }
        guard config is [String: Any] else { throw RPCError.invalidParams("\"config\" must be an object") }
        return (path, try json(config))
    }

    private static func object(_ params: [UInt8]?) throws(RPCError) -> [UInt8] {
        guard let params else { return Array("{}".utf8) }
        guard params.first == UInt8(ascii: "{") else {
            throw RPCError.invalidParams("params must be an object with named members")
        }
        return params
    }

    private static func members(_ params: [UInt8]?) throws(RPCError) -> [String: Any] {
        let bytes = try object(params)
        guard let members = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw RPCError.invalidParams("params must be an object with named members")
        }
        return members
    }

    private static func json(_ value: Any) throws(RPCError) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) else {
            throw RPCError.internalError("could not re-encode a JSON value")
        }
        return [UInt8](data)
    }

    /// A DecodingError as a sentence naming the field: `missing field "id"`,
    /// `"ms": expected a number`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \"\(path(context, key))\""
        case .typeMismatch(let type, let context):
            return "\"\(path(context))\": expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\"\(path(context))\": expected \(typeName(type)), found null"
        case .dataCorrupted(let context):
            let where_ = path(context)
            return where_.isEmpty ? context.debugDescription : "\"\(where_)\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is [String].Type, is [Any].Type: "an array"
        default: "\(type)"
        }
    }
}

struct IDParams: Decodable { let id: String }
struct UnloadParams: Decodable {
    let id: String
    let force: Bool?
}
struct TopicsParams: Decodable { let topics: [String] }
struct ClockParams: Decodable { let ms: Int64 }

struct HostStatus: Encodable {
    let version: String
    let abiVersion: String
    let serverId: String
    let uptimeMs: Int64
    let clock: String
    let nowMs: Int64
    let modules: [ModuleSummary]
    let retiredImages: Int
    let openCalls: Int
}

struct ModuleList: Encodable { let modules: [ModuleSummary] }

struct ModuleSummary: Encodable {
    let id: String
    let version: String
    let description: String
    let state: String
    let generation: Int
    let file: String

    init(_ instance: ModuleInstance) {
        id = instance.id
        version = instance.descriptor.version
        description = instance.descriptor.description
        state = instance.state.description
        generation = instance.generation
        file = instance.image.file
    }
}

struct ModuleDescription: Encodable {
    struct Flags: Encodable {
        let concurrent: Bool
        let unloadable: Bool
    }
    let id: String
    let version: String
    let description: String
    let state: String
    let generation: Int
    let file: String
    let abiVersion: String
    let swiftImage: Bool
    let methods: [String]
    let requires: [String]
    let subscriptions: [String]
    let flags: Flags
    let queuedCalls: Int
    let openCalls: Int

    init(_ instance: ModuleInstance, slot: ModuleSlot?) {
        let descriptor = instance.descriptor
        id = instance.id
        version = descriptor.version
        description = descriptor.description
        state = instance.state.description
        generation = instance.generation
        file = instance.image.file
        abiVersion = descriptor.abiVersionString
        swiftImage = instance.image.isSwift
        methods = descriptor.methodNames
        requires = descriptor.requires.map(\.description)
        subscriptions = descriptor.subscriptions
        flags = Flags(concurrent: descriptor.isConcurrent, unloadable: descriptor.isUnloadable)
        queuedCalls = slot?.mailbox.queuedCount ?? 0
        openCalls = slot.map { CallTable.shared.openCount(of: $0) } ?? 0
    }
}
