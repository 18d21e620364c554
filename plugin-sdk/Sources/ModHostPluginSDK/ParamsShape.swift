#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How one method reads its params: which names positional params map onto.
///
/// JSON-RPC allows params by position (`[42, 23]`) or by name (`{"minuend": 42, …}`). When a
/// method declares names, an array is rewritten as an object with those keys (the elements'
/// JSON is copied, not parsed) and then decoded once, so either form decodes the same type.
struct ParamsShape: Sendable {
    let names: [String]
    /// `"name":` for each name, JSON-escaped once at registration.
    private let keys: [[UInt8]]

    init(names: [String]) {
        precondition(Set(names).count == names.count, "params names must be unique: \(names)")
        self.names = names
        self.keys = names.map { name in
            // A String always encodes; the fallback only keeps this free of `try!`.
            let quoted = (try? JSONEncoder().encode(name)).map(Array.init) ?? Array("\"\(name)\"".utf8)
            return quoted + [UInt8(ascii: ":")]
        }
    }

    /// Decodes `params` (the host's raw bytes, `null` when the request had none) as `type`.
    ///
    /// - Throws: `PluginError` -32602 whose message names the offending field.
    func decode<T: Decodable>(_ type: T.Type, from params: UnsafeRawBufferPointer,
                              using decoder: JSONDecoder) throws -> T {
        let scanner = JSONScanner(bytes: params)
        let source: Data
        if !names.isEmpty, scanner.startsWithArray {
            source = try object(fromPositional: scanner)
        } else {
            // Borrowed for the synchronous decode below: no copy.
            source = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: params.baseAddress!), count: params.count,
                          deallocator: .none)
        }
        do {
            return try decoder.decode(type, from: source)
        } catch let error as DecodingError {
            // No params at all, for a type with (only optional, or no) fields: decode `{}`.
            if case .valueNotFound(let expected, let context) = error, context.codingPath.isEmpty,
                ObjectIdentifier(expected) == ObjectIdentifier([String: Any].self), scanner.isNull
            {
                let empty = Data("{}".utf8)
                do {
                    return try decoder.decode(type, from: empty)
                } catch let error as DecodingError {
                    throw Self.invalid(error, json: empty)
                }
            }
            throw Self.invalid(error, json: source)
        }
    }

    /// Checks that a method without params got none: `null`, `[]` or `{}`.
    static func expectNone(_ params: UnsafeRawBufferPointer) throws {
        let scanner = JSONScanner(bytes: params)
        if scanner.isNull || scanner.arrayElements()?.isEmpty == true || scanner.objectMembers()?.isEmpty == true {
            return
        }
        throw PluginError.invalidParams("invalid params: this method takes no params")
    }

    private func object(fromPositional scanner: JSONScanner) throws -> Data {
        guard let elements = scanner.arrayElements() else {
            throw PluginError.invalidParams("invalid params: not valid JSON")
        }
        guard elements.count == names.count else {
            let list = names.joined(separator: ", ")
            throw PluginError.invalidParams(
                "invalid params: expected \(names.count) positional params (\(list)), got \(elements.count)")
        }
        var object: [UInt8] = [UInt8(ascii: "{")]
        object.reserveCapacity(scanner.bytes.count + keys.reduce(2) { $0 + $1.count + 1 })
        for (index, range) in elements.enumerated() {
            if index > 0 { object.append(UInt8(ascii: ",")) }
            object += keys[index]
            object += scanner.bytes[range]
        }
        object.append(UInt8(ascii: "}"))
        return Data(object)
    }

    private static func invalid(_ error: DecodingError, json: Data) -> PluginError {
        .invalidParams("invalid params: \(DecodingFailure(error: error, json: json).message)")
    }
}
