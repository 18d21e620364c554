#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes `Decodable` types from JSON: the one decoder of host params and SDK params, config,
/// events, state and replies.
///
///     struct Operands: Decodable { let minuend, subtrahend: Double }
///     let operands = try JSONValueDecoder().decode(Operands.self, from: bytes)
///
/// It reads what `JSONDecoder` with its default strategies reads, the same way: integers
/// exactly (`2.0` and `1e2` are integers too; `1.5` is not), `Data` as base64, `URL` as a
/// string, `Date` as seconds since 2001, the first of duplicate keys. Two things differ on
/// purpose: time stays linear in the input whatever the nesting (a `JSONValue` inside a
/// `Decodable` is taken whole from the parsed tree, never re-decoded value by value), and a
/// type mismatch says what was found (`expected Int, found a string`). Errors are
/// `DecodingError`s; `DecodingFailure.message` renders them as one line naming the field.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes `type` from an already parsed value.
    public func decode<T: Decodable>(_ type: T.Type = T.self, from value: JSONValue) throws -> T {
        try Reader(value, key: nil, parent: nil).decodeValue(T.self)
    }

    /// Parses `bytes`, then decodes `type` from them.
    ///
    /// - Throws: `DecodingError.dataCorrupted` saying where the bytes stop being JSON (or that
    ///   they nest deeper than the limit), else the decoding's own `DecodingError`.
    public func decode<T: Decodable>(_ type: T.Type = T.self, from bytes: UnsafeRawBufferPointer) throws -> T {
        try decode(type, from: Self.parse(bytes))
    }

    /// Parses `data`, then decodes `type` from it.
    public func decode<T: Decodable>(_ type: T.Type = T.self, from data: some ContiguousBytes) throws -> T {
        try data.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// The parsed value of `bytes`; invalid JSON is a `DecodingError.dataCorrupted`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        do {
            return try JSONValue(parsing: bytes.assumingMemoryBound(to: UInt8.self))
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not valid JSON: \(error)"))
        }
    }
}

/// The `Decoder` over one value of the tree: a class, so nested readers share their parent's
/// path instead of copying it (a coding path is only built when asked for, or for an error).
final class Reader: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let key: (any CodingKey)?
    let parent: Reader?

    init(_ value: JSONValue, key: (any CodingKey)?, parent: Reader?) {
        self.value = value
        self.key = key
        self.parent = parent
    }

    var codingPath: [any CodingKey] {
        var keys: [any CodingKey] = []
        var reader: Reader? = self
        while let current = reader {
            if let key = current.key { keys.append(key) }
            reader = current.parent
        }
        return keys.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The path of a member or element of this reader's value.
    func path(_ key: (any CodingKey)?) -> [any CodingKey] {
        guard let key else { return codingPath }
        return codingPath + [key]
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self, value, nil) }
        return KeyedDecodingContainer(KeyedReader<Key>(members: members, reader: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([Any].self, value, nil) }
        return UnkeyedReader(elements: elements, reader: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Values, at this reader (key nil) or at a member or element of it

    func decodeValue<T: Decodable>(_ type: T.Type, _ value: JSONValue? = nil, key: (any CodingKey)? = nil) throws -> T {
        let value = value ?? self.value
        // The types JSON holds directly, without a reader of their own; and JSONValue itself,
        // taken whole (this is what keeps deeply nested values linear).
        if T.self == JSONValue.self { return value as! T }
        if T.self == String.self { return try string(value, key) as! T }
        if T.self == Int.self { return try integer(Int.self, value, key) as! T }
        if T.self == Int64.self { return try integer(Int64.self, value, key) as! T }
        if T.self == Double.self { return try double(value, key) as! T }
        if T.self == Bool.self { return try bool(value, key) as! T }
        if T.self == Data.self { return try data(value, key) as! T }
        if T.self == URL.self { return try url(value, key) as! T }
        if T.self == Decimal.self { return try decimal(value, key) as! T }
        return try T(from: key == nil ? self : Reader(value, key: key, parent: self))
    }

    func isNull(_ value: JSONValue) -> Bool { value.isNull }

    func bool(_ value: JSONValue, _ key: (any CodingKey)?) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(Bool.self, value, key) }
        return bool
    }

    func string(_ value: JSONValue, _ key: (any CodingKey)?) throws -> String {
        guard case .string(let string) = value else { throw mismatch(String.self, value, key) }
        return string
    }

    func double(_ value: JSONValue, _ key: (any CodingKey)?) throws -> Double {
        guard let double = value.double else { throw mismatch(Double.self, value, key) }
        guard double.isFinite else { throw Self.numberOutOfRange }
        return double
    }

    func float(_ value: JSONValue, _ key: (any CodingKey)?) throws -> Float {
        let float = Float(try double(value, key))
        guard float.isFinite else { throw Self.numberOutOfRange }
        return float
    }

    /// An integer of `type`: exactly the number written, or a refusal (never rounded).
    func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ key: (any CodingKey)?) throws -> T {
        let integer: T? =
            switch value {
            case .int(let number): T(exactly: number)
            case .uint(let number): T(exactly: number)
            case .double(let number): T(exactly: number)
            default: throw mismatch(T.self, value, key)
            }
        guard let integer else { throw Self.numberOutOfRange }
        return integer
    }

    private func data(_ value: JSONValue, _ key: (any CodingKey)?) throws -> Data {
        guard let data = Data(base64Encoded: try string(value, key)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path(key), debugDescription: "expected base64 text"))
        }
        return data
    }

    private func url(_ value: JSONValue, _ key: (any CodingKey)?) throws -> URL {
        guard let url = URL(string: try string(value, key)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path(key), debugDescription: "not a valid URL"))
        }
        return url
    }

    private func decimal(_ value: JSONValue, _ key: (any CodingKey)?) throws -> Decimal {
        let text: String? =
            switch value {
            case .int(let number): String(number)
            case .uint(let number): String(number)
            case .double(let number) where number.isFinite: number.description
            default: nil
            }
        guard let text, let decimal = Decimal(string: text) else { throw mismatch(Decimal.self, value, key) }
        return decimal
    }

    /// `expected Int, found a string`, or `valueNotFound` for null, at the value's path.
    func mismatch(_ type: Any.Type, _ value: JSONValue, _ key: (any CodingKey)?) -> DecodingError {
        let context = DecodingError.Context(
            codingPath: path(key), debugDescription: "expected \(DecodingFailure.typeName(type)), found \(value.kindDescription)")
        return value.isNull ? .valueNotFound(type, context) : .typeMismatch(type, context)
    }

    /// A number that does not fit the type asked for: worded as the SDK has always reported it
    /// (clients match the sentence), which has never named the field.
    static var numberOutOfRange: DecodingError {
        .dataCorrupted(.init(codingPath: [], debugDescription: "a number is out of range or not an integer where one is expected"))
    }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try bool(value, nil) }
    func decode(_ type: String.Type) throws -> String { try string(value, nil) }
    func decode(_ type: Double.Type) throws -> Double { try double(value, nil) }
    func decode(_ type: Float.Type) throws -> Float { try float(value, nil) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type, value, nil) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type, value, nil) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type, value, nil) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type, value, nil) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type, value, nil) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type, value, nil) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type, value, nil) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type, value, nil) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type, value, nil) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type, value, nil) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}
