/// The data of every `token.*` event: which token, and the health keys it serves
/// (`providerKeys`: a `token.reauth_required` blocks each of them, a `token.refreshed` lifts
/// each block).
///
/// Decoding also accepts the older `{providerKey}` alone (a one-key list), as MODULES.md keeps
/// it accepted.
public struct TokenEvent: Codable, Sendable, Equatable {
    /// The token file's name without `.json`.
    public var id: String?
    public var provider: String?
    public var alias: String?
    public var seq: Int?
    /// The health keys this token serves.
    public var providerKeys: [String]
    /// When the access token expires, ms since the epoch.
    public var expiresAt: Int64?
    /// What went wrong (`token.refresh_failed`, `token.suspended`): the OAuth `error` or a reason.
    public var error: String?

    public init(id: String?, provider: String? = nil, alias: String? = nil, seq: Int? = nil, providerKeys: [String],
                expiresAt: Int64? = nil, error: String? = nil) {
        self.id = id
        self.provider = provider
        self.alias = alias
        self.seq = seq
        self.providerKeys = providerKeys
        self.expiresAt = expiresAt
        self.error = error
    }

    private enum CodingKeys: String, CodingKey {
        case id, provider, alias, seq, providerKeys, providerKey, expiresAt, error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        provider = try container.decodeIfPresent(String.self, forKey: .provider)
        alias = try container.decodeIfPresent(String.self, forKey: .alias)
        seq = try container.decodeIfPresent(Int.self, forKey: .seq)
        expiresAt = try container.decodeIfPresent(Int64.self, forKey: .expiresAt)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        if let keys = try container.decodeIfPresent([String].self, forKey: .providerKeys) {
            providerKeys = keys
        } else if let key = try container.decodeIfPresent(String.self, forKey: .providerKey) {
            providerKeys = [key]
        } else {
            throw DecodingError.keyNotFound(CodingKeys.providerKeys, .init(
                codingPath: container.codingPath, debugDescription: "a token event names its providerKeys (or one providerKey)"))
        }
        guard !providerKeys.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .providerKeys, in: container, debugDescription: "providerKeys is empty")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encodeIfPresent(provider, forKey: .provider)
        try container.encodeIfPresent(alias, forKey: .alias)
        try container.encodeIfPresent(seq, forKey: .seq)
        try container.encode(providerKeys, forKey: .providerKeys)
        try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try container.encodeIfPresent(error, forKey: .error)
    }
}
