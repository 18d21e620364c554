/// `token.status {id}` and each entry of `token.list`: no secret in it (at most a hint of the
/// last 4 characters of a token).
public struct TokenStatus: Encodable, Sendable, Equatable {
    public var id: String
    public var provider: String?
    public var alias: String?
    public var seq: Int?
    public var providerKeys: [String]
    /// `valid`, `expiring`, `expired`, `refreshing`, `suspended`, `invalid`, `static`.
    public var status: String
    /// Why the token is `invalid` or `suspended`, or why it cannot be refreshed.
    public var reason: String?
    public var expiresAt: Int64?
    public var msLeft: Int64?
    /// When the background refresh comes (window start plus jitter, or the backoff's end).
    public var nextRefreshAt: Int64?
    public var history: History
    public var file: String
    public var noRefresh: Bool
    /// Whether the module can refresh it (a refresh token, an endpoint, not `noRefresh`).
    public var refreshable: Bool
    /// `…` and the last 4 characters, for telling tokens apart.
    public var accessTokenHint: String?
}

/// `token.list`.
public struct TokenList: Encodable, Sendable, Equatable {
    public var tokens: [TokenStatus]
}

/// `token.access`: the one answer holding a secret.
public struct AccessAnswer: Encodable, Sendable, Equatable {
    public var accessToken: String
    public var tokenType: String
    public var expiresAt: Int64?
}

/// `token.refreshDue`.
public struct DueAnswer: Encodable, Sendable, Equatable {
    public var refreshed: [String]
    public var failed: [String]
}

enum Redact {
    /// At most the last 4 characters, and only of a secret long enough (12+) that 4 give
    /// nothing away.
    static func hint(_ secret: String?) -> String? {
        guard let secret else { return nil }
        return secret.count >= 12 ? "…" + secret.suffix(4) : "…"
    }
}
