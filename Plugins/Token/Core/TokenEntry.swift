import ModuleSupport

/// One token: its file as last read, what is stored about it, and the refresh in flight.
struct TokenEntry: Sendable {
    var name: TokenName
    /// nil while the file is unusable (`problem` says why).
    var record: TokenRecord?
    var problem: String?
    var stored: StoredToken
    var flight: Flight?
    /// Worked out when the entry is made or its file read, not on every call (`nextWakeMs`
    /// looks at every token after every operation).
    var jitterMs: Int64 = 0
    var hasEndpoint = false
    var endpointProblem: String?

    var providerKeys: [String] {
        if let keys = record?.providerKeys { return keys }
        let provider = record?.provider ?? name.provider
        let alias = record?.alias ?? name.alias
        let seq = record?.seq ?? name.seq
        var keys: [String] = []
        if let provider, let alias { keys.append("\(provider).\(alias)") }
        if let provider, let seq { keys.append("\(provider).\(seq)") }
        return keys.isEmpty ? [name.id] : keys
    }
}

/// What the store keeps per token (`token/<id>`), and a hot swap carries: the history, a
/// suspension, the backoff, and the fingerprint of the file as last read (a file changed while
/// the host was down still lifts a suspension).
public struct StoredToken: Codable, Sendable, Equatable {
    public var history = History()
    public var suspended: Suspension?
    public var backoffUntilMs: Int64?
    public var fileFingerprint: UInt64?

    public init() {}
}

public struct Suspension: Codable, Sendable, Equatable {
    /// Why, for `token.status`'s `reason`.
    public var reason: String
    /// The OAuth `error` or failure reason that caused it; `manual` for `token.suspend`.
    public var error: String
}

/// `token.status`'s `history`.
public struct History: Codable, Sendable, Equatable {
    public var attempts = 0
    public var successes = 0
    public var failures = 0
    public var failureStreak = 0
    public var lastAttemptAt: Int64?
    /// Real time the last refresh took, lock wait and request.
    public var lastDurationMs: Int64?
    /// `refreshed`, `adopted` (another process had refreshed it), or `failed`.
    public var lastResult: String?
    /// The last failure's reason (`invalid_grant`, `http_503`, `timeout`, …).
    public var lastError: String?

    public init() {}
}

/// A refresh under way, and who waits for it.
struct Flight: Sendable {
    var attempt: UInt64
    var startedAtMs: Int64
    /// Started by `token.refresh` (ignores the backoff, does not count toward suspension).
    var manual: Bool
    var waiters: [Waiter] = []
    /// Set once the lock is held (released when the flight ends).
    var locked = false
    /// The access token when the flight began: another one in the file once the lock is held
    /// means another process refreshed it meanwhile.
    var startAccessToken: String?
    /// The refresh token sent, to tell a sibling's rotation from a refusal on `invalid_grant`.
    var sentRefreshToken: String?
    /// The refreshed record, while its file is being written.
    var written: TokenRecord?
    var writtenFingerprint: UInt64?
    /// Real ms the HTTP request took.
    var durationMs: Int64?
}

enum Waiter: Sendable, Equatable {
    /// `token.access`: the token when the refresh ends.
    case access(PendingCallID)
    /// `token.refresh`: the status after the attempt, or the failure.
    case refresh(PendingCallID)
    /// `token.refreshDue`: a batch of refreshes.
    case batch(UInt64)
}

/// A `token.refreshDue` call waiting for its refreshes.
struct Batch: Sendable {
    var call: PendingCallID
    var remaining: Set<String>
    var refreshed: [String] = []
    var failed: [String] = []
}
