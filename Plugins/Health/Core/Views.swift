/// `health.report`'s answer: the key's state afterwards and how the report was classified.
public struct ReportResult: Encodable, Sendable, Equatable {
    public var providerKey: String
    public var state: KeyState
    public var untilMs: Int64?
    /// The report's class (`rate_limit`, `quota`, `auth`, `server`, `network`,
    /// `series_quota`), or `ignored` for a status that says nothing about health.
    public var reason: String
    /// How the deadline was set, for people.
    public var detail: String?
}

/// `health.reportSuccess`'s answer.
public struct SuccessResult: Encodable, Sendable, Equatable {
    public var providerKey: String
    public var state: KeyState
    public var untilMs: Int64?
}

/// One key in `health.status`.
public struct KeyStatus: Encodable, Sendable, Equatable {
    public var providerKey: String
    public var state: KeyState
    public var untilMs: Int64?
    public var reason: String
    public var detail: String?
    public var series: String?
    /// When the key's series is tripped: until then.
    public var seriesUntilMs: Int64?
    public var consecutiveErrors: ErrorCounts
    public var lastError: LastError?
    public var trips: Int
    /// Steps taken in the 429 backoff chain.
    public var backoffStep: Int
}

/// `health.status` without a key.
public struct StatusList: Encodable, Sendable {
    public var entries: [KeyStatus]
}

/// `health.snapshot`: keys out of service (their own state, unexpired) and tripped series.
public struct Snapshot: Encodable, Sendable, Equatable {
    public struct Entry: Encodable, Sendable, Equatable {
        public var providerKey: String
        public var state: KeyState
        public var untilMs: Int64?
        public var reason: String
        public var series: String?
        public var trips: Int
    }

    /// A tripped series.
    public struct Series: Encodable, Sendable, Equatable {
        public var series: String
        public var untilMs: Int64
    }

    public var entries: [Entry]
    public var series: [Series]
}

/// `health.reset`'s answer: how many keys were forgotten.
public struct ResetResult: Encodable, Sendable, Equatable {
    public var reset: Int
    public init(reset: Int) { self.reset = reset }
}

/// What a hot swap carries from one version to the next: every key and tripped series.
public struct HealthState: Codable, Sendable, Equatable {
    public var entries: [KeyEntry]
    public var series: [SeriesTrip]

    public init(entries: [KeyEntry], series: [SeriesTrip]) {
        self.entries = entries
        self.series = series
    }
}
