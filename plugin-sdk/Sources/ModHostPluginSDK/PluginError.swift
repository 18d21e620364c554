#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An error a method handler throws to fail its call with a chosen JSON-RPC code.
///
/// How thrown errors reach the caller (the SDK calls the host's `fail`):
///
/// | thrown                               | code                  | message                              |
/// |--------------------------------------|-----------------------|--------------------------------------|
/// | `PluginError`                        | its `code`            | its `message`, plus its `data`       |
/// | `DecodingError` (params, or yours)   | `-32602`              | `invalid params: "a.b": expected Int, found a string` |
/// | the result fails to encode           | `-32603`              | `cannot encode result: …`            |
/// | any other `Error`                    | `1` (`.failed`)       | `String(describing: error)`          |
///
/// `-32602` and `-32603` are the standard JSON-RPC codes; any other code is the module's own,
/// and the host presents it to its client as modhost.h describes.
///
///     throw PluginError.invalidParams("divisor must not be zero")
///     throw PluginError(code: 404, "no such session", data: ["id": .string(id)])
public struct PluginError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A numeric error code passed to the host's `fail`.
    public struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByIntegerLiteral {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public init(integerLiteral value: Int32) { self.rawValue = value }

        /// `-32602`: the params do not fit the method.
        public static let invalidParams = Code(rawValue: -32602)
        /// `-32603`: the plugin broke, not the caller (e.g. a result that cannot be encoded).
        public static let internalError = Code(rawValue: -32603)
        /// `1`: the SDK's code for any thrown error that is not a `PluginError`.
        public static let failed = Code(rawValue: 1)
    }

    /// The code passed to `fail`.
    public var code: Code
    /// One line for humans.
    public var message: String
    /// Optional JSON placed in the error object's `data`.
    public var data: RawJSON?

    /// An error with a code, a message and optional raw JSON data.
    public init(code: Code, _ message: String, data: RawJSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// An error whose `data` is `data` encoded as JSON (dropped if it cannot be encoded).
    public init(code: Code, _ message: String, data: some Encodable) {
        self.init(code: code, message, data: (try? JSONEncoder().encode(data)).map(RawJSON.init))
    }

    /// `-32602` invalid params.
    public static func invalidParams(_ message: String) -> PluginError {
        PluginError(code: .invalidParams, message)
    }

    /// `-32603` internal error.
    public static func internalError(_ message: String) -> PluginError {
        PluginError(code: .internalError, message)
    }

    /// `1` with a message: a plain failure of the module's own.
    public static func failed(_ message: String) -> PluginError {
        PluginError(code: .failed, message)
    }

    /// A failure of the module's own that scripts can act on: a snake_case `reason` and more
    /// fields, which the host lifts into the caller's error `data` beside `module` and `code`
    /// (MODULES.md's contract for module errors):
    ///
    ///     throw PluginError.reason("no_target_available", "every key of pool main is cooling down",
    ///                              ["retryAfterMs": 1200])
    ///     // the caller: -32000, data {"module": "routing", "code": 1,
    ///     //                            "reason": "no_target_available", "retryAfterMs": 1200}
    ///
    /// `reason` wins over a `"reason"` in `fields`; `code` defaults to `.failed`.
    public static func reason(_ reason: String, _ message: String, _ fields: [String: JSONValue] = [:],
                              code: Code = .failed) -> PluginError {
        var object = fields
        object["reason"] = .string(reason)
        return PluginError(code: code, message, data: JSONValue.object(object))
    }

    public var description: String {
        "\(message) (code \(code.rawValue))"
    }
}
