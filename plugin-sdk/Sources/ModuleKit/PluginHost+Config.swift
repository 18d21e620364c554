import ModHostPluginSDK
import ModHostSupport

extension PluginHost {
    /// Decodes the module's config section as `T` and warns in the host's log about the keys
    /// of the section that `T` never asked for (`ignoring unknown config keys: "cooldownCap"`):
    /// a misspelt setting is then seen, not silently left at its default.
    ///
    /// The known keys are the ones `T`'s `init(from:)` asks its keyed container about
    /// (`decode`, `decodeIfPresent`, `contains`), which for a synthesized `Decodable` is every
    /// property: there is no list to keep in step. Only the section's own keys are checked (not
    /// those of nested objects, which are often data: a map of names), and only when `T` reads
    /// the section as an object.
    ///
    /// - Throws: what decoding throws; from `init`, that fails the load (`invalid config: …`).
    public func readConfig<T: Decodable>(_ type: T.Type, from config: RawJSON) throws -> T {
        let read = try config.decode(ConfigRecorder<T>.self)
        if !read.unknownKeys.isEmpty {
            let named = read.unknownKeys.prefix(10).map { LogText.quote($0) }.joined(separator: ", ")
            let more = read.unknownKeys.count > 10 ? " and \(read.unknownKeys.count - 10) more" : ""
            log(.warning, "ignoring unknown config keys: \(named)\(more)")
        }
        return read.value
    }
}

/// Decodes `T` through a decoder that notes the keys `T` asks about.
struct ConfigRecorder<T: Decodable>: Decodable {
    let value: T
    /// The section's keys `T` never asked about, sorted.
    let unknownKeys: [String]

    init(from decoder: any Decoder) throws {
        let asked = AskedKeys()
        value = try T(from: RecordingDecoder(base: decoder, asked: asked))
        guard asked.keyed, let present = try? decoder.container(keyedBy: AnyConfigKey.self).allKeys else {
            unknownKeys = []
            return
        }
        unknownKeys = present.map(\.stringValue).filter { !asked.keys.contains($0) }.sorted()
    }
}

/// What the top-level keyed container was asked (a class: the containers are values).
final class AskedKeys {
    var keyed = false
    var keys: Set<String> = []
}

struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Forwards to `base`, noting the keys asked of its top-level keyed container.
struct RecordingDecoder: Decoder {
    let base: any Decoder
    let asked: AskedKeys

    var codingPath: [any CodingKey] { base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        asked.keyed = true
        return KeyedDecodingContainer(RecordingContainer(base: try base.container(keyedBy: type), asked: asked))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { try base.unkeyedContainer() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { try base.singleValueContainer() }
}

struct RecordingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let base: KeyedDecodingContainer<Key>
    let asked: AskedKeys

    var codingPath: [any CodingKey] { base.codingPath }
    var allKeys: [Key] { base.allKeys }

    private func note(_ key: Key) { asked.keys.insert(key.stringValue) }

    func contains(_ key: Key) -> Bool { note(key); return base.contains(key) }
    func decodeNil(forKey key: Key) throws -> Bool { note(key); return try base.decodeNil(forKey: key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { note(key); return try base.decode(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { note(key); return try base.decode(type, forKey: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { note(key); return try base.decode(type, forKey: key) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        note(key)
        return try base.decodeIfPresent(type, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        note(key)
        return try base.nestedContainer(keyedBy: type, forKey: key)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        note(key)
        return try base.nestedUnkeyedContainer(forKey: key)
    }

    func superDecoder() throws -> any Decoder { try base.superDecoder() }
    func superDecoder(forKey key: Key) throws -> any Decoder { note(key); return try base.superDecoder(forKey: key) }
}
