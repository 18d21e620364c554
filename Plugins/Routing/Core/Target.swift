import ModuleSupport

/// A pool target, `provider.key.model`: the provider, the alias of one of its credentials (the
/// key), and the model. The model is the rest after the second dot, so it may hold dots itself
/// (`glm.k1.glm-4.7`). Its health key (health's `providerKey`) is `provider.key`.
public struct Target: Hashable, Sendable, Codable, CustomStringConvertible {
    public var provider: String
    public var key: String
    public var model: String

    public init(provider: String, key: String, model: String) {
        self.provider = provider
        self.key = key
        self.model = model
    }

    /// `provider.key.model`, each part checked (`field` names it in the message).
    public init(parsing text: String, field: String) throws(ModuleFailure) {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidInput("\(field) must be provider.key.model (three non-empty parts), found \"\(Names.clip(text))\"")
        }
        guard Names.isName(parts[0]), Names.isName(parts[1]), Names.isModel(parts[2]) else {
            throw .invalidInput("\(field) \"\(Names.clip(text))\" holds characters other than letters, digits, '-', '_' (and '.', ':', '/', '@' in the model)")
        }
        self.init(provider: parts[0], key: parts[1], model: parts[2])
    }

    public var providerKey: String { "\(provider).\(key)" }
    public var description: String { "\(provider).\(key).\(model)" }
}

/// The names routing accepts: providers and key aliases, models, session ids.
public enum Names {
    /// Provider and key alias: letters, digits, `-`, `_`, 1 to 64 bytes.
    public static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { isWord($0) }
    }

    /// A model: also `.`, `:`, `/`, `@`, 1 to 128 bytes.
    public static func isModel(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128
            && text.utf8.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "@") }
    }

    static func isWord(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Outside text cut for a message: at most 60 characters.
    public static func clip(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(57)) + "..."
    }
}
