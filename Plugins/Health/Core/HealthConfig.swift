/// The module's settings: the `health` section of modhost's `--config` file. Every key is
/// optional; times are milliseconds.
///
///     {"health": {"cooldownCapMs": 3600000, "series": {"claude": ["anthropic.k1", "anthropic.k2"]}}}
public struct HealthConfig: Sendable, Equatable {
    /// Longest cooldown a rate-limit hint can ask for (3 h).
    public var cooldownCapMs: Int64 = 10_800_000
    /// Longest quota blacklist a hinted reset can ask for (48 h); without a hint it is the next
    /// local midnight.
    public var quotaCapMs: Int64 = 172_800_000
    /// The 429 backoff chain without a hint: 15 s, 30 s, 1 m, 5 m, 30 m, 1 h (the last repeats).
    public var backoffMs: [Int64] = [15_000, 30_000, 60_000, 300_000, 1_800_000, 3_600_000]
    /// The chain starts again after this long without errors (10 min).
    public var backoffResetMs: Int64 = 600_000
    /// Consecutive server/network errors that open the circuit (3).
    public var circuitThreshold = 3
    /// The circuit stays open for this × trips (30 s)…
    public var circuitOpenMs: Int64 = 30_000
    /// …at most this long (300 s).
    public var circuitMaxOpenMs: Int64 = 300_000
    /// A halfOpen key whose probe brought no result is offered again after this long (30 s).
    public var probeTimeoutMs: Int64 = 30_000
    /// Series (model families): which keys belong to which series.
    public var series = SeriesMap()
    /// A series trips when at least this share of its keys is out (0.5).
    public var seriesTripShare = 0.5
    /// How long a series trip by share, or a series_quota without a hint, lasts (60 s).
    public var seriesCooldownMs: Int64 = 60_000

    public init() {}

    /// The furthest ahead of now any rule can set a deadline: the largest cap or step, and 25 h
    /// for the next local midnight (a day that leaves daylight saving time). A stored record
    /// whose deadline lies further ahead was not written by these rules at this time.
    public var longestDeadlineMs: Int64 {
        [cooldownCapMs, quotaCapMs, circuitMaxOpenMs, probeTimeoutMs, seriesCooldownMs, backoffMs.max() ?? 0,
         25 * 3_600_000].max() ?? 0
    }

    /// Reads a config section (JSON), returning it and the unknown keys it ignored.
    ///
    /// - Throws: `HealthConfigError` for a value out of range, `DecodingError` for a wrong type.
    public static func decode(from decoder: any Decoder) throws -> (HealthConfig, unknownKeys: [String]) {
        let container = try decoder.container(keyedBy: AnyKey.self)
        var config = HealthConfig()
        func read<T: Decodable>(_ name: String, _ slot: inout T) throws {
            if let value = try container.decodeIfPresent(T.self, forKey: AnyKey(name)) { slot = value }
        }
        try read("cooldownCapMs", &config.cooldownCapMs)
        try read("quotaCapMs", &config.quotaCapMs)
        try read("backoffMs", &config.backoffMs)
        try read("backoffResetMs", &config.backoffResetMs)
        try read("circuitThreshold", &config.circuitThreshold)
        try read("circuitOpenMs", &config.circuitOpenMs)
        try read("circuitMaxOpenMs", &config.circuitMaxOpenMs)
        try read("probeTimeoutMs", &config.probeTimeoutMs)
        try read("seriesTripShare", &config.seriesTripShare)
        try read("seriesCooldownMs", &config.seriesCooldownMs)
        if let lists = try container.decodeIfPresent([String: [String]].self, forKey: AnyKey("series")) {
            for (series, patterns) in lists { try config.series.add(series, patterns) }
        }
        if let rules = try container.decodeIfPresent([String: OneOrMany].self, forKey: AnyKey("seriesOf")) {
            for (series, patterns) in rules { try config.series.add(series, patterns.values) }
        }
        try config.validate()
        let unknown = container.allKeys.map(\.stringValue).filter { !Self.keys.contains($0) }.sorted()
        return (config, unknown)
    }

    static let keys: Set<String> = [
        "cooldownCapMs", "quotaCapMs", "backoffMs", "backoffResetMs", "circuitThreshold", "circuitOpenMs",
        "circuitMaxOpenMs", "probeTimeoutMs", "series", "seriesOf", "seriesTripShare", "seriesCooldownMs",
    ]

    /// Refuses values that would make the rules meaningless.
    public func validate() throws {
        func positive(_ name: String, _ value: Int64) throws {
            guard value > 0 else { throw HealthConfigError("\(name) must be positive, got \(value)") }
        }
        try positive("cooldownCapMs", cooldownCapMs)
        try positive("quotaCapMs", quotaCapMs)
        try positive("backoffResetMs", backoffResetMs)
        try positive("circuitOpenMs", circuitOpenMs)
        try positive("circuitMaxOpenMs", circuitMaxOpenMs)
        try positive("probeTimeoutMs", probeTimeoutMs)
        try positive("seriesCooldownMs", seriesCooldownMs)
        guard !backoffMs.isEmpty else { throw HealthConfigError("backoffMs must not be empty") }
        for (index, step) in backoffMs.enumerated() { try positive("backoffMs[\(index)]", step) }
        guard circuitThreshold >= 1 else {
            throw HealthConfigError("circuitThreshold must be at least 1, got \(circuitThreshold)")
        }
        guard seriesTripShare > 0, seriesTripShare <= 1 else {
            throw HealthConfigError("seriesTripShare must be in (0, 1], got \(seriesTripShare)")
        }
    }
}

/// A refused config value; fails the module's load.
public struct HealthConfigError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "invalid config: \(message)" }
}

/// Which series a provider key belongs to: exact keys, or prefix rules (`"anthropic.*"`).
public struct SeriesMap: Sendable, Equatable {
    /// Exact key → series.
    public private(set) var exact: [String: String] = [:]
    /// Prefix rules, longest prefix first.
    public private(set) var prefixes: [(prefix: String, series: String)] = []

    public init() {}

    /// Adds keys or `prefix*` patterns to `series`.
    public mutating func add(_ series: String, _ patterns: [String]) throws {
        guard !series.isEmpty else { throw HealthConfigError("a series name must not be empty") }
        for pattern in patterns {
            if pattern.hasSuffix("*") {
                let prefix = String(pattern.dropLast())
                guard !prefix.contains("*") else { throw HealthConfigError("series \(series): pattern \"\(pattern)\" may only end in *") }
                prefixes.append((prefix, series))
            } else {
                guard !pattern.isEmpty, !pattern.contains("*") else {
                    throw HealthConfigError("series \(series): \"\(pattern)\" is not a key or a prefix* pattern")
                }
                if let other = exact[pattern], other != series {
                    throw HealthConfigError("key \(pattern) is listed in series \(other) and \(series)")
                }
                exact[pattern] = series
            }
        }
        prefixes.sort { $0.prefix.count != $1.prefix.count ? $0.prefix.count > $1.prefix.count : $0.prefix < $1.prefix }
    }

    /// The series `key` belongs to by configuration, if any.
    public func series(of key: String) -> String? {
        if let series = exact[key] { return series }
        for rule in prefixes where key.hasPrefix(rule.prefix) { return rule.series }
        return nil
    }

    public static func == (lhs: SeriesMap, rhs: SeriesMap) -> Bool {
        lhs.exact == rhs.exact && lhs.prefixes.map(\.prefix) == rhs.prefixes.map(\.prefix)
            && lhs.prefixes.map(\.series) == rhs.prefixes.map(\.series)
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `"a*"` or `["a*", "b"]`.
private struct OneOrMany: Decodable {
    let values: [String]
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            values = [one]
        } else {
            values = try container.decode([String].self)
        }
    }
}
