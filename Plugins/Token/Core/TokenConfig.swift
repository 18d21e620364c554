/// The `token` section of the host's `--config` file. Every field is optional.
public struct TokenConfig: Decodable, Sendable, Equatable {
    /// The directory of token files; default `<module data dir>/auth`.
    public var authDir: String?
    /// How long before expiry the background refresh begins (default 30 min).
    public var refreshAheadMs: Int64?
    /// `token.access` on a token this close to expiry waits for a refresh (default 60 s).
    public var skewMs: Int64?
    /// The longest a refresh may take, lock wait and HTTP request together, in real time (the
    /// whole request, not only between bytes; default 30 s).
    public var refreshTimeoutMs: Int64?
    /// How often the directory is read again besides inotify, on the host clock (default 60 s).
    public var pollMs: Int64?
    /// Per provider: the token endpoint and client for token files that do not name them.
    public var providers: [String: ProviderDefaults]?

    public struct ProviderDefaults: Decodable, Sendable, Equatable {
        public var tokenEndpoint: String?
        public var clientId: String?
        public var clientSecret: String?
        public init(tokenEndpoint: String? = nil, clientId: String? = nil, clientSecret: String? = nil) {
            self.tokenEndpoint = tokenEndpoint
            self.clientId = clientId
            self.clientSecret = clientSecret
        }
    }

    public init(authDir: String? = nil, refreshAheadMs: Int64? = nil, skewMs: Int64? = nil, refreshTimeoutMs: Int64? = nil,
                pollMs: Int64? = nil, providers: [String: ProviderDefaults]? = nil) {
        self.authDir = authDir
        self.refreshAheadMs = refreshAheadMs
        self.skewMs = skewMs
        self.refreshTimeoutMs = refreshTimeoutMs
        self.pollMs = pollMs
        self.providers = providers
    }
}

/// The config with its defaults filled in and checked.
public struct TokenSettings: Sendable, Equatable {
    public var refreshAheadMs: Int64 = 1_800_000
    public var skewMs: Int64 = 60_000
    public var refreshTimeoutMs: Int64 = 30_000
    public var pollMs: Int64 = 60_000
    public var providers: [String: TokenConfig.ProviderDefaults] = [:]

    public init() {}

    /// - Throws: `TokenFileError` naming the field out of range and its range.
    public init(_ config: TokenConfig) throws(TokenFileError) {
        func check(_ value: Int64?, _ name: String, _ range: ClosedRange<Int64>) throws(TokenFileError) -> Int64? {
            guard let value else { return nil }
            guard range.contains(value) else { throw TokenFileError("token config: \(name) must be \(range.lowerBound)...\(range.upperBound), found \(value)") }
            return value
        }
        refreshAheadMs = try check(config.refreshAheadMs, "refreshAheadMs", 0...86_400_000) ?? refreshAheadMs
        skewMs = try check(config.skewMs, "skewMs", 0...3_600_000) ?? skewMs
        refreshTimeoutMs = try check(config.refreshTimeoutMs, "refreshTimeoutMs", 100...600_000) ?? refreshTimeoutMs
        pollMs = try check(config.pollMs, "pollMs", 1_000...86_400_000) ?? pollMs
        providers = config.providers ?? [:]
        for (provider, defaults) in providers.sorted(by: { $0.key < $1.key }) {
            if let endpoint = defaults.tokenEndpoint, let problem = EndpointCheck.problem(endpoint) {
                throw TokenFileError("token config: providers.\(provider).tokenEndpoint: \(problem)")
            }
        }
    }
}
