import ModHostJSON

/// A token file read: the fields the module uses, in either spelling, and how the file writes
/// them (`style`), so a write-back keeps the file's own keys.
///
/// The secrets (`accessToken`, `refreshToken`, `apiKey`, `clientSecret`) stay in here and in
/// `token.access`'s answer: nothing that logs, publishes or lists reads them.
public struct TokenRecord: Sendable, Equatable {
    public var accessToken: String?
    public var refreshToken: String?
    /// Ms since the epoch; nil when the file gives no expiry.
    public var expiresAtMs: Int64?
    public var apiKey: String?
    public var noRefresh: Bool
    public var tokenEndpoint: String?
    public var clientId: String?
    public var clientSecret: String?
    public var scope: String?
    public var tokenType: String?
    public var provider: String?
    public var alias: String?
    public var seq: Int?
    public var providerKeys: [String]?
    /// The file as it was read (every key, known or not), for the write-back.
    public var json: [String: JSONValue]
    public var style: TokenFileStyle

    public init(accessToken: String? = nil, refreshToken: String? = nil, expiresAtMs: Int64? = nil, apiKey: String? = nil,
                noRefresh: Bool = false, tokenEndpoint: String? = nil, clientId: String? = nil, clientSecret: String? = nil,
                scope: String? = nil, tokenType: String? = nil, provider: String? = nil, alias: String? = nil, seq: Int? = nil,
                providerKeys: [String]? = nil, json: [String: JSONValue] = [:], style: TokenFileStyle = TokenFileStyle()) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAtMs = expiresAtMs
        self.apiKey = apiKey
        self.noRefresh = noRefresh
        self.tokenEndpoint = tokenEndpoint
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.scope = scope
        self.tokenType = tokenType
        self.provider = provider
        self.alias = alias
        self.seq = seq
        self.providerKeys = providerKeys
        self.json = json
        self.style = style
    }
}

/// How a token file spells its keys, and where and in which unit it keeps its expiry.
public struct TokenFileStyle: Sendable, Equatable {
    /// `access_token` (the upstream daemon's files) or `accessToken`.
    public var snakeCase: Bool = true
    /// The key holding the expiry (`expires_at`, `expiresAt`, `expired`, `expiry_date`,
    /// `expiry`); nil when the file has none (a write-back then adds `expires_at` or
    /// `expiresAt` in ms).
    public var expiryKey: String?
    public var expiryUnit: ExpiryUnit = .milliseconds

    public enum ExpiryUnit: String, Sendable, Equatable {
        /// A number below 1e11.
        case seconds
        case milliseconds
        /// An RFC 3339 string.
        case rfc3339
    }

    public init(snakeCase: Bool = true, expiryKey: String? = nil, expiryUnit: ExpiryUnit = .milliseconds) {
        self.snakeCase = snakeCase
        self.expiryKey = expiryKey
        self.expiryUnit = expiryUnit
    }

    /// The key this file uses for a field: its snake_case or its camelCase name.
    public func key(snake: String, camel: String) -> String { snakeCase ? snake : camel }
}
