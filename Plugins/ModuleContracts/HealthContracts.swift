/// `health.cooldown`, `health.opened`, `health.recovered`: a key's state changed. The fields
/// each topic carries are on `Topic`; absent ones are left out.
public struct HealthKeyEvent: Codable, Sendable, Equatable {
    public var providerKey: String
    /// When the key is usable again on its own account, ms since the epoch.
    public var untilMs: Int64?
    /// `rate_limit`, `quota`, `auth`, `server`, `network`, `series`.
    public var reason: String?
    /// Circuit trips (`health.opened`).
    public var trips: Int?

    public init(providerKey: String, untilMs: Int64? = nil, reason: String? = nil, trips: Int? = nil) {
        self.providerKey = providerKey
        self.untilMs = untilMs
        self.reason = reason
        self.trips = trips
    }
}

/// `health.series_tripped`: a whole series (model family) is out until `untilMs`.
public struct SeriesTripped: Codable, Sendable, Equatable {
    public var series: String
    public var untilMs: Int64
    public init(series: String, untilMs: Int64) {
        self.series = series
        self.untilMs = untilMs
    }
}

/// `health.available`'s params: the keys to ask about, in the caller's order. `peek: true`
/// answers without handing out a halfOpen key's one probe (routing's pool queries, dry runs).
public struct AvailableRequest: Codable, Sendable, Equatable {
    public var providerKeys: [String]
    public var peek: Bool?
    public init(providerKeys: [String], peek: Bool? = nil) {
        self.providerKeys = providerKeys
        self.peek = peek
    }
}

/// `health.available`'s answer: the usable keys in the order asked, why the others are not, and
/// the earliest time one of them recovers.
public struct AvailableAnswer: Codable, Sendable, Equatable {
    public struct Unavailable: Codable, Sendable, Equatable {
        public var providerKey: String
        /// `cooldown`, `open`, `halfOpen`, `blacklisted`.
        public var state: String
        public var untilMs: Int64?
        public var reason: String
        public init(providerKey: String, state: String, untilMs: Int64? = nil, reason: String) {
            self.providerKey = providerKey
            self.state = state
            self.untilMs = untilMs
            self.reason = reason
        }
    }
    public var available: [String]
    public var unavailable: [Unavailable]
    public var earliestRecoveryMs: Int64?
    public init(available: [String], unavailable: [Unavailable], earliestRecoveryMs: Int64? = nil) {
        self.available = available
        self.unavailable = unavailable
        self.earliestRecoveryMs = earliestRecoveryMs
    }
}

/// `host.client_connected` / `host.client_disconnected`.
public struct ClientEvent: Codable, Sendable, Equatable {
    /// The connection's id, as `call_client` reports it for its calls.
    public var clientId: UInt64
    public init(clientId: UInt64) { self.clientId = clientId }
}
