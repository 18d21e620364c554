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

    /// Whether the JSON is the literal `null`.
    public var isNull: Bool {
        data.withUnsafeBytes { JSONScanner(bytes: $0).isNull }
    }

    /// Decodes the JSON into `type`.
    ///
    /// - Throws: the decoder's `DecodingError`. Thrown out of a method handler it becomes a
    ///   `-32602` invalid-params error naming the offending field.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}
