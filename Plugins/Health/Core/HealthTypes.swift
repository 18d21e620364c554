/// What a report is about, decided from `errorClass` or the HTTP status.
public enum ErrorClass: String, Codable, Sendable, CaseIterable {
    /// 429 without a daily quota: cooldown until the hint, or the backoff chain.
    case rateLimit = "rate_limit"
    /// The key's quota for the day is exhausted: blacklisted until the reset.
    case quota
    /// 5xx: counts towards the circuit breaker.
    case server
    /// Connection failures and timeouts: count towards the circuit breaker.
    case network
    /// 401/403: out until the token is refreshed.
    case auth
    /// The whole series (model family) ran out of quota: the series trips.
    case seriesQuota = "series_quota"

    /// The names, for error messages: `rate_limit, quota, …`.
    static let list = allCases.map(\.rawValue).joined(separator: ", ")
}

/// A provider key's state as callers see it.
public enum KeyState: String, Codable, Sendable {
    case healthy, cooldown, open, halfOpen, blacklisted

    /// Whether the key is out of service with a cause (not merely waiting for its probe).
    var isOut: Bool {
        switch self {
        case .cooldown, .open, .blacklisted: true
        case .healthy, .halfOpen: false
        }
    }
}

/// Consecutive errors of each class since the last success, encoded as
/// `{"rate_limit": n, "quota": n, …}` with every class present.
public struct ErrorCounts: Sendable, Equatable {
    // Six stored counts rather than an array: no allocation per key.
    private var rateLimit = 0, quota = 0, server = 0, network = 0, auth = 0, seriesQuota = 0

    public init() {}

    public subscript(errorClass: ErrorClass) -> Int {
        get {
            switch errorClass {
            case .rateLimit: rateLimit
            case .quota: quota
            case .server: server
            case .network: network
            case .auth: auth
            case .seriesQuota: seriesQuota
            }
        }
        set {
            switch errorClass {
            case .rateLimit: rateLimit = newValue
            case .quota: quota = newValue
            case .server: server = newValue
            case .network: network = newValue
            case .auth: auth = newValue
            case .seriesQuota: seriesQuota = newValue
            }
        }
    }

    public var isZero: Bool { self == ErrorCounts() }
}

extension ErrorCounts: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for errorClass in ErrorClass.allCases {
            self[errorClass] = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: errorClass.rawValue)) ?? 0
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for errorClass in ErrorClass.allCases {
            try container.encode(self[errorClass], forKey: Key(stringValue: errorClass.rawValue))
        }
    }
}

/// The most recent error reported for a key.
public struct LastError: Codable, Sendable, Equatable {
    public var status: Int?
    public var errorClass: ErrorClass
    public var atMs: Int64
}

/// A refused input: the message names the offending field. The plugin turns it into -32602.
public struct HealthInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
