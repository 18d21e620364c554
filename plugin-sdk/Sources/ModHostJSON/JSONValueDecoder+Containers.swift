/// The keyed and unkeyed containers of `JSONValueDecoder`: views of an object's members and an
/// array's elements in the parsed tree (no copies: the dictionary and array are shared).

/// A key for an array element in a coding path: `[2]`.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let reader: Reader

    var codingPath: [any CodingKey] { reader.codingPath }
    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            let description = "no value for key \(JSONString.quotedText(key.stringValue))"
            throw DecodingError.keyNotFound(key, .init(codingPath: reader.codingPath, debugDescription: description))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try reader.bool(value(key), key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try reader.string(value(key), key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try reader.double(value(key), key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try reader.float(value(key), key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try reader.integer(type, value(key), key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try reader.integer(type, value(key), key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try reader.integer(type, value(key), key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try reader.integer(type, value(key), key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try reader.integer(type, value(key), key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try reader.integer(type, value(key), key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try reader.integer(type, value(key), key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try reader.integer(type, value(key), key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try reader.integer(type, value(key), key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try reader.integer(type, value(key), key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try reader.decodeValue(type, value(key), key: key) }

    /// Absent and `null` are both nil: one lookup instead of the default's three.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue], !value.isNull else { return nil }
        return try reader.decodeValue(type, value, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try Reader(value(key), key: key, parent: reader).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try Reader(value(key), key: key, parent: reader).unkeyedContainer()
    }

    /// The `super` member (`null` when absent), as `JSONDecoder` does.
    func superDecoder() throws -> any Decoder {
        Reader(members["super"] ?? .null, key: SuperKey(), parent: reader)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        Reader(members[key.stringValue] ?? .null, key: key, parent: reader)
    }
}

private struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}

struct UnkeyedReader: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let reader: Reader
    private(set) var currentIndex = 0

    init(elements: [JSONValue], reader: Reader) {
        self.elements = elements
        self.reader = reader
    }

    var codingPath: [any CodingKey] { reader.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The next element, not yet consumed: a reader advances only past what it decoded.
    private func peek(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: reader.path(IndexKey(currentIndex)), debugDescription: "the array has no more elements"))
        }
        return elements[currentIndex]
    }

    /// Reads the next element with `read(reader, element, its key)` and moves past it.
    private mutating func next<T>(_ type: Any.Type, _ read: (Reader, JSONValue, IndexKey) throws -> T) throws -> T {
        let value = try read(reader, peek(type), IndexKey(currentIndex))
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard try peek(Never.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { try $0.bool($1, $2) } }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) { try $0.string($1, $2) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { try $0.double($1, $2) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { try $0.float($1, $2) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try $0.integer(type, $1, $2) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { try $0.decodeValue(type, $1, key: $2) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next([String: Any].self) { try Reader($1, key: $2, parent: $0).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([Any].self) { try Reader($1, key: $2, parent: $0).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next(Reader.self) { Reader($1, key: $2, parent: $0) }
    }
}
