/// How one method reads its params: which names positional params map onto.
///
/// JSON-RPC allows params by position (`[42, 23]`) or by name (`{"minuend": 42, …}`). When a
/// method declares names, an array is read as an object with those keys, so either form decodes
/// the same type. Params are parsed once into a `JSONValue` (linear in their length, however
/// deep) and decoded from that tree with `JSONValueDecoder`.
struct ParamsShape: Sendable {
    let names: [String]

    init(names: [String]) {
        precondition(Set(names).count == names.count, "params names must be unique: \(names)")
        self.names = names
    }

    /// Decodes `params` (the host's raw bytes, `null` when the request had none) as `type`.
    ///
    /// - Parameter subject: what the bytes are, for messages: `params`, or `event data` (an
    ///   event handler's data is read the same way).
    /// - Throws: `PluginError` -32602 whose message names the offending field.
    func decode<T: Decodable>(_ type: T.Type, from params: UnsafeRawBufferPointer, using decoder: JSONValueDecoder,
                              subject: String = "params") throws -> T {
        var value = try Self.parse(params, subject: subject)
        if !names.isEmpty, case .array(let elements) = value {
            guard elements.count == names.count else {
                let list = names.joined(separator: ", ")
                throw PluginError.invalidParams(
                    "invalid \(subject): expected \(names.count) positional params (\(list)), got \(elements.count)")
            }
            value = .object(Dictionary(uniqueKeysWithValues: zip(names, elements)))
        }
        do {
            return try decoder.decode(type, from: value)
        } catch let error as DecodingError {
            // No params at all, for a type with (only optional, or no) fields: decode `{}`.
            if case .valueNotFound(let expected, let context) = error, context.codingPath.isEmpty,
                ObjectIdentifier(expected) == ObjectIdentifier([String: Any].self), value.isNull
            {
                do {
                    return try decoder.decode(type, from: .object([:]))
                } catch let error as DecodingError {
                    throw Self.invalid(error, in: .object([:]), subject: subject)
                }
            }
            throw Self.invalid(error, in: value, subject: subject)
        }
    }

    /// Checks that a method without params got none: `null`, `[]` or `{}`.
    static func expectNone(_ params: UnsafeRawBufferPointer) throws {
        switch try parse(params) {
        case .null: return
        case .array(let elements) where elements.isEmpty: return
        case .object(let members) where members.isEmpty: return
        default: throw PluginError.invalidParams("invalid params: this method takes no params")
        }
    }

    /// The params as a value; text that is not JSON (or nests past the limit) is -32602.
    private static func parse(_ params: UnsafeRawBufferPointer, subject: String = "params") throws -> JSONValue {
        do {
            return try JSONValue(parsing: params.assumingMemoryBound(to: UInt8.self))
        } catch .tooDeep(let at) {
            throw PluginError.invalidParams("invalid \(subject): \(JSONScanner.Failure.tooDeep(at: at))")
        } catch {
            throw PluginError.invalidParams("invalid \(subject): not valid JSON: \(error)")
        }
    }

    private static func invalid(_ error: DecodingError, in value: JSONValue, subject: String) -> PluginError {
        .invalidParams("invalid \(subject): \(DecodingFailure.message(error, in: value))")
    }
}
