#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON text as received from the host: a module's config, an event's data, a call's reply.
///
/// Decode it into your own type when you need it:
///
///     struct Config: Decodable { var interval: Int }
///     let config = try rawConfig.decode(Config.self)
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 JSON bytes.
    public let data: Data

    /// Wraps JSON bytes as they are (not validated).
    public init(_ data: Data) {
        self.data = data
    }

    /// Wraps JSON text as it is (not validated).
    public init(_ text: String) {
        self.data = Data(text.utf8)
    }

    /// The JSON text.
    public var text: String {
        String(decoding: data, as: UTF8.self)
    }

    public var description: String { text }

    /// Whether the JSON is the literal `null` (white space around it allowed); read without
    /// parsing the rest of a longer text.
    public var isNull: Bool {
        data.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw.assumingMemoryBound(to: UInt8.self))
            scanner.skipWhitespace()
            guard scanner.next == UInt8(ascii: "n"), (try? scanner.readLiteral()) == .null else { return false }
            return (try? scanner.expectEnd()) != nil
        }
    }

    /// Decodes the JSON into `type` (with `JSONValueDecoder`).
    ///
    /// - Throws: a `DecodingError`. Thrown out of a method handler it becomes a `-32602`
    ///   invalid-params error naming the offending field.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONValueDecoder().decode(type, from: data)
    }

    /// The parsed value (`JSONScanner.Failure` when the text is not JSON).
    public func value() throws -> JSONValue {
        try data.withUnsafeBytes { bytes throws(JSONScanner.Failure) in try JSONValue(parsing: bytes.assumingMemoryBound(to: UInt8.self)) }
    }
}

/// A `RawJSON` returned by a method handler is handed to the host as it is (`ResultWriter`).
/// Inside another `Encodable` it is parsed and encoded as the value it holds.
extension RawJSON: Encodable {
    public func encode(to encoder: any Encoder) throws {
        let parsed: JSONValue
        do {
            parsed = try value()
        } catch {
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "RawJSON is not valid JSON: \(error)"))
        }
        try parsed.encode(to: encoder)
    }
}
