/// What an engine operation asks the plugin to do afterwards, in order: store writes, events
/// to publish, lines to log. The engine itself touches no host service.
public struct Effects: Sendable {
    public var writes: [StoreWrite] = []
    public var events: [HealthEvent] = []
    /// Ignored hints and the like, for the log.
    public var notes: [String] = []

    public init() {}
}

/// A change to the host store: `key/<providerKey>` and `series/<name>` records.
public enum StoreWrite: Sendable, Equatable {
    case putKey(KeyEntry)
    case deleteKey(String)
    case putSeries(SeriesTrip)
    case deleteSeries(String)

    public static let keyPrefix = "key/"
    public static let seriesPrefix = "series/"

    /// The store key written or deleted.
    public var storeKey: String {
        switch self {
        case .putKey(let entry): Self.keyPrefix + entry.providerKey
        case .deleteKey(let key): Self.keyPrefix + key
        case .putSeries(let trip): Self.seriesPrefix + trip.series
        case .deleteSeries(let series): Self.seriesPrefix + series
        }
    }
}

/// An event the module publishes.
public struct HealthEvent: Sendable, Equatable {
    public let topic: String
    public let data: Payload

    /// The fields of the four events; absent ones are left out.
    public struct Payload: Encodable, Sendable, Equatable {
        public var providerKey: String?
        public var series: String?
        public var untilMs: Int64?
        public var reason: String?
        public var trips: Int?
    }

    /// `health.cooldown {providerKey, untilMs, reason}`: a key's cooldown began or moved.
    static func cooldown(_ entry: KeyEntry) -> HealthEvent {
        HealthEvent(topic: "health.cooldown", data: Payload(
            providerKey: entry.providerKey, untilMs: entry.untilMs, reason: entry.reason))
    }

    /// `health.opened {providerKey, untilMs, trips}`: the key's circuit opened.
    static func opened(_ entry: KeyEntry) -> HealthEvent {
        HealthEvent(topic: "health.opened", data: Payload(
            providerKey: entry.providerKey, untilMs: entry.untilMs, trips: entry.circuit.trips))
    }

    /// `health.recovered {providerKey}`: the key is healthy again.
    static func recovered(_ key: String) -> HealthEvent {
        HealthEvent(topic: "health.recovered", data: Payload(providerKey: key))
    }

    /// `health.series_tripped {series, untilMs}`.
    static func seriesTripped(_ trip: SeriesTrip) -> HealthEvent {
        HealthEvent(topic: "health.series_tripped", data: Payload(series: trip.series, untilMs: trip.untilMs))
    }
}
