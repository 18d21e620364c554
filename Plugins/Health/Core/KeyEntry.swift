/// Everything the module knows about one provider key. Its parts are independent (a key can
/// be rate limited while its circuit is open); `state` says what they add up to.
///
/// Invariant kept by `HealthEngine`: every deadline held here is in the future, because
/// `expire(at:)` runs before the entry is read or changed.
public struct KeyEntry: Codable, Sendable, Equatable {
    public let providerKey: String
    /// The series (model family) the key belongs to, if any.
    public var series: String?
    /// Rate limited until then.
    public var cooldownUntilMs: Int64?
    /// How the cooldown was set: `retryAfter`, `backoff 2/6`, `resetAt (capped)`, ….
    public var cooldownSource: String?
    /// Daily quota exhausted until then.
    public var quotaUntilMs: Int64?
    /// `resetAt`, `local midnight`, ….
    public var quotaSource: String?
    /// Out until its token is refreshed (or a success is reported).
    public var authBlocked = false
    public var circuit = Circuit()
    public var backoff = BackoffChain()
    public var consecutiveErrors = ErrorCounts()
    public var lastError: LastError?
    /// The state last announced (events, store); a change from it is a transition.
    public internal(set) var announcedState = KeyState.healthy
    /// Whether the store holds a record of this entry.
    public internal(set) var persisted = false
    /// The series whose out-count includes this key (engine bookkeeping, not saved).
    var countedOutIn: String?

    enum CodingKeys: String, CodingKey {
        case providerKey, series, cooldownUntilMs, cooldownSource, quotaUntilMs, quotaSource, authBlocked, circuit,
            backoff, consecutiveErrors, lastError, announcedState = "state", persisted
    }

    public init(providerKey: String, series: String? = nil) {
        self.providerKey = providerKey
        self.series = series
    }

    /// The key's own state (its series aside).
    public var state: KeyState {
        if authBlocked || quotaUntilMs != nil { return .blacklisted }
        if circuit.phase == .open { return .open }
        if cooldownUntilMs != nil { return .cooldown }
        if circuit.phase == .halfOpen { return .halfOpen }
        return .healthy
    }

    /// When the key is usable again on its own account: the last of its running deadlines;
    /// nil when healthy, halfOpen or blocked for auth (no known time).
    public var untilMs: Int64? {
        switch state {
        case .blacklisted: authBlocked ? nil : Self.latest(Self.latest(quotaUntilMs, cooldownUntilMs), circuit.openUntilMs)
        case .open: Self.latest(circuit.openUntilMs, cooldownUntilMs)
        case .cooldown: cooldownUntilMs
        case .healthy, .halfOpen: nil
        }
    }

    /// Why the key is in its state: `ok`, `rate_limit`, `quota`, `auth`, `server`, `network`.
    public var reason: String {
        switch state {
        case .blacklisted: authBlocked ? ErrorClass.auth.rawValue : ErrorClass.quota.rawValue
        case .open, .halfOpen: (circuit.cause ?? .server).rawValue
        case .cooldown: ErrorClass.rateLimit.rawValue
        case .healthy: "ok"
        }
    }

    /// A line for people: how the deadline was set.
    public var detail: String? {
        switch state {
        case .blacklisted: authBlocked ? "until the token is refreshed or a success is reported" : quotaSource
        case .open: "circuit trip \(circuit.trips)"
        case .halfOpen: circuit.probeAtMs == nil ? "one probe may go" : "probe out"
        case .cooldown: cooldownSource
        case .healthy: nil
        }
    }

    /// The earliest deadline held: when the state may change next without a report.
    var nextDeadline: Int64? {
        Self.earliest(Self.earliest(cooldownUntilMs, quotaUntilMs), circuit.openUntilMs)
    }

    /// Clears the deadlines at or before `nowMs`; an open circuit becomes halfOpen.
    mutating func expire(at nowMs: Int64) {
        if let until = cooldownUntilMs, until <= nowMs {
            cooldownUntilMs = nil
            cooldownSource = nil
        }
        if let until = quotaUntilMs, until <= nowMs {
            quotaUntilMs = nil
            quotaSource = nil
        }
        circuit.expire(at: nowMs)
    }

    /// What the store record and the announcements depend on.
    var durable: Durable {
        Durable(state: state, untilMs: untilMs, cooldownUntilMs: cooldownUntilMs, quotaUntilMs: quotaUntilMs,
                authBlocked: authBlocked, circuit: circuit.phase, openUntilMs: circuit.openUntilMs, trips: circuit.trips,
                series: series)
    }

    struct Durable: Equatable {
        var state: KeyState
        var untilMs: Int64?
        var cooldownUntilMs: Int64?
        var quotaUntilMs: Int64?
        var authBlocked: Bool
        var circuit: Circuit.Phase
        var openUntilMs: Int64?
        var trips: Int
        var series: String?

        static let healthy = Durable(state: .healthy, untilMs: nil, cooldownUntilMs: nil, quotaUntilMs: nil,
                                     authBlocked: false, circuit: .closed, openUntilMs: nil, trips: 0, series: nil)
    }

    static func latest(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }

    static func earliest(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }
}

/// A series (model family) taken out as a whole until `untilMs`.
public struct SeriesTrip: Codable, Sendable, Equatable {
    public var series: String
    public var untilMs: Int64
    /// `share` (too many of its keys out) or `series_quota`.
    public var reason: String

    public init(series: String, untilMs: Int64, reason: String) {
        self.series = series
        self.untilMs = untilMs
        self.reason = reason
    }
}
