import ModHostSupport
import ModuleContracts
import ModuleSupport

/// The token module's rules (MODULES.md, token): token files read as the plugin hands them in,
/// statuses, the refresh-ahead window with its per-token jitter, single-flight refreshes that
/// callers join, RFC 6749 outcomes, backoff, suspension and resumption. Pure: time comes in as
/// `nowMs`, files and HTTP results come in as values, and what must happen outside (read the
/// directory, take a lock, send a request, write a file) goes out as `TokenRequest`s.
public struct TokenEngine: Sendable {
    public typealias Effects = TokenEffects

    let settings: TokenSettings
    /// A shadow instance starts no refresh (no HTTP, no lock, no file written).
    let shadow: Bool
    var entries: [String: TokenEntry] = [:]
    /// What the store held (or a swap handed over) for tokens not read from disk yet.
    var stored: [String: StoredToken] = [:]
    /// Tokens whose refresh a stop or swap cut short: refreshed again at once.
    var retry: Set<String> = []
    /// The background refresh time of every idle token that has one (`touch` keeps it), so
    /// `nextWakeMs`, read after every operation, does not look at every token.
    var due: [String: Int64] = [:]
    var batches: [UInt64: Batch] = [:]
    var nextAttempt: UInt64 = 1
    var nextBatch: UInt64 = 1
    /// The next time the directory is read again (the poll beside inotify).
    var nextScanMs: Int64?
    /// Whether a full scan has come in since start (stored records of tokens it did not find are
    /// then deleted).
    var scannedOnce = false

    public init(settings: TokenSettings = TokenSettings(), shadow: Bool = false) {
        self.settings = settings
        self.shadow = shadow
    }

    public var tokenCount: Int { entries.count }

    // MARK: Restore and swap

    /// The `token/<id>` records of the last run.
    public mutating func load(_ records: [(name: String, value: StoredToken)]) {
        for record in records { stored[record.name] = record.value }
    }

    /// What crosses a hot swap: the stored part of every token, and the tokens whose refresh
    /// was in flight (the new instance refreshes them again at once).
    public struct State: Codable, Sendable {
        public var tokens: [String: StoredToken]
        public var inFlight: [String]
    }

    public func exportState() -> State {
        var tokens = stored
        for (id, entry) in entries { tokens[id] = entry.stored }
        let flying = entries.values.filter { $0.flight != nil }.map(\.name.id) + retry
        return State(tokens: tokens, inFlight: Array(Set(flying)).sorted())
    }

    public mutating func importState(_ state: State) {
        defer { touchAll() }
        entries = [:]
        stored = state.tokens
        retry = Set(state.inFlight)
        scannedOnce = false
    }

    /// The module stopped: refreshes in flight end without a result (their calls were failed by
    /// the kit), and are refreshed again when it starts again.
    public mutating func abandonFlights(effects: inout Effects) {
        defer { touchAll() }
        for id in entries.keys.sorted() where entries[id]?.flight != nil {
            if entries[id]?.flight?.locked == true { effects.requests.append(.unlock(id: id)) }
            entries[id]?.flight = nil
            retry.insert(id)
        }
        batches = [:]
    }

    // MARK: Time

    public var nextWakeMs: Int64? {
        var next = nextScanMs
        func consider(_ ms: Int64?) {
            guard let ms else { return }
            next = next.map { min($0, ms) } ?? ms
        }
        consider(due.values.min())
        for id in retry {
            if let entry = entries[id], entry.flight == nil, refreshProblem(entry) == nil { consider(Int64.min) }
        }
        return next
    }

    /// Works out the background refresh time of `id` again (after anything about it changed).
    mutating func touch(_ id: String) {
        if let entry = entries[id], entry.flight == nil, let at = nextRefreshAt(entry) { due[id] = at } else { due[id] = nil }
    }

    mutating func touchAll() {
        due = [:]
        for id in entries.keys { touch(id) }
    }

    /// Starts the refreshes that are due, and asks for a scan when the poll comes round.
    public mutating func wake(at nowMs: Int64, effects: inout Effects) {
        defer { touchAll() }
        if let scan = nextScanMs, scan <= nowMs {
            nextScanMs = nil
            effects.requests.append(.scan)
        }
        for id in entries.keys.sorted() {
            guard let entry = entries[id], entry.flight == nil else { continue }
            let retrying = retry.contains(id) && refreshProblem(entry) == nil
            if retrying || (nextRefreshAt(entry).map { $0 <= nowMs } ?? false) {
                retry.remove(id)
                startFlight(id, manual: false, at: nowMs, effects: &effects)
            }
        }
        retry = retry.filter { entries[$0] == nil }
    }

    /// When the background refresh of `entry` comes: the window's start plus the token's jitter,
    /// or the backoff's end if later; nil when it is not refreshed in the background.
    func nextRefreshAt(_ entry: TokenEntry) -> Int64? {
        guard refreshProblem(entry) == nil, let expiresAt = entry.record?.expiresAtMs else { return nil }
        let window = settings.refreshAheadMs
        let due = expiresAt.subtractingSaturating(window).addingSaturating(entry.jitterMs)
        // Never later than the `skewMs` before expiry, where callers would start waiting.
        let latest = expiresAt.subtractingSaturating(settings.skewMs)
        let planned = min(due, max(latest, expiresAt.subtractingSaturating(window)))
        guard let backoff = entry.stored.backoffUntilMs else { return planned }
        return max(planned, backoff)
    }

    /// Why `entry` cannot be refreshed (nil: it can).
    func refreshProblem(_ entry: TokenEntry) -> String? {
        if shadow { return "a shadow instance does not refresh" }
        if let problem = entry.problem { return problem }
        guard let record = entry.record else { return "the token file is not read yet" }
        if entry.stored.suspended != nil { return "the token is suspended" }
        if record.noRefresh { return "the token file sets noRefresh" }
        if record.apiKey != nil && record.accessToken == nil { return "an api key is never refreshed" }
        guard record.expiresAtMs != nil else { return "the token has no expiry" }
        guard record.refreshToken != nil else { return "the token file has no refresh_token" }
        guard entry.hasEndpoint else {
            return "no token endpoint: set token_endpoint in the file or providers.\(record.provider ?? "<provider>").tokenEndpoint in the config"
        }
        return entry.endpointProblem
    }

    func endpoint(for record: TokenRecord) -> String? {
        record.tokenEndpoint ?? record.provider.flatMap { settings.providers[$0]?.tokenEndpoint }
    }

    /// The token's status at `nowMs`.
    func status(of entry: TokenEntry, at nowMs: Int64) -> String {
        if entry.problem != nil || entry.record == nil { return "invalid" }
        if entry.stored.suspended != nil { return "suspended" }
        if entry.flight != nil { return "refreshing" }
        guard let record = entry.record else { return "invalid" }
        if record.apiKey != nil && record.accessToken == nil { return "static" }
        guard let expiresAt = record.expiresAtMs else { return "static" }
        if nowMs >= expiresAt { return "expired" }
        if nowMs >= expiresAt.subtractingSaturating(settings.refreshAheadMs) { return "expiring" }
        return "valid"
    }

    func event(_ entry: TokenEntry, error: String? = nil) -> TokenEvent {
        TokenEvent(id: entry.name.id, provider: entry.record?.provider ?? entry.name.provider, alias: entry.record?.alias ?? entry.name.alias,
                   seq: entry.record?.seq ?? entry.name.seq, providerKeys: entry.providerKeys, expiresAt: entry.record?.expiresAtMs,
                   error: error)
    }

    func persist(_ id: String, effects: inout Effects) {
        guard let entry = entries[id] else { return }
        effects.list.put("token/\(id)", encoding: entry.stored)
    }
}
