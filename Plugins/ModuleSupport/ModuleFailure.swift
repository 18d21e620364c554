import ModHostJSON

/// A refusal or failure of a module's rules, in the terms callers see (MODULES.md): bad input
/// (-32602, the message naming the field), a failure of the module's own (-32000 with
/// `data.reason`, a snake_case word scripts act on, and more fields beside it, such as
/// `retryAfterMs`), or a fault of the module (-32603). The kit turns it into the SDK's
/// `PluginError`, which a core does not import.
///
///     throw ModuleFailure.invalidInput("providerKeys[1] must not be empty")
///     throw ModuleFailure.reason("no_target_available", "every key of pool main is cooling down",
///                                ["retryAfterMs": 1200])
public struct ModuleFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// -32602: the params (or event data) do not fit.
        case invalidInput
        /// -32000 with `data.reason`.
        case failed(reason: String)
        /// -32603: the module broke, not the caller.
        case internalError
    }

    public var kind: Kind
    /// One line for humans.
    public var message: String
    /// A failure's fields beside `reason` in the caller's `data`.
    public var fields: [String: JSONValue]

    public init(_ kind: Kind, _ message: String, fields: [String: JSONValue] = [:]) {
        self.kind = kind
        self.message = message
        self.fields = fields
    }

    public static func invalidInput(_ message: String) -> ModuleFailure {
        ModuleFailure(.invalidInput, message)
    }

    public static func reason(_ reason: String, _ message: String, _ fields: [String: JSONValue] = [:]) -> ModuleFailure {
        ModuleFailure(.failed(reason: reason), message, fields: fields)
    }

    public static func internalError(_ message: String) -> ModuleFailure {
        ModuleFailure(.internalError, message)
    }

    public var description: String { message }
}

/// An error type of a core's own that says how callers see it (its input errors as
/// `.invalidInput`, say): the kit maps what conforms, anything else goes to the SDK's mapping.
public protocol ModuleFailureConvertible: Error {
    var moduleFailure: ModuleFailure { get }
}

extension ModuleFailure: ModuleFailureConvertible {
    public var moduleFailure: ModuleFailure { self }
}
