import ModHostSupport

/// A per-key circuit breaker for server and network errors, after sony/gobreaker's
/// `CircuitBreaker` with `MaxRequests` 1 (one probe) and a trip rule of `threshold`
/// consecutive failures:
///
/// - closed: a failure counts; `threshold` in a row open the circuit; a success clears the count.
/// - open for `openMs × trips` (at most `maxOpenMs`): results are ignored (they belong to calls
///   made before the trip, as gobreaker ignores a previous generation's).
/// - halfOpen once that time is up: the next result decides. A failure re-opens, one trip
///   longer; a success closes and clears the counts and the trips.
public struct Circuit: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable {
        case closed, open, halfOpen
    }

    /// What a recorded result did.
    public enum Outcome: Equatable, Sendable {
        /// Closed: the consecutive failures now.
        case counted(Int)
        /// Opened (from closed or halfOpen) until this time.
        case opened(untilMs: Int64)
        /// HalfOpen → closed.
        case closed
        /// Open: the result belongs to calls made before the trip.
        case ignored
    }

    public private(set) var phase = Phase.closed
    /// When an open circuit becomes halfOpen.
    public private(set) var openUntilMs: Int64?
    /// Opens since the circuit last closed; the open time grows with it.
    public private(set) var trips = 0
    public private(set) var consecutiveFailures = 0
    /// What tripped it: `server` or `network`.
    public private(set) var cause: ErrorClass?
    /// When the halfOpen probe was handed out, if it was.
    public var probeAtMs: Int64?

    public init() {}

    /// A circuit as a stored record holds it (`KeyEntry+Record`).
    init(phase: Phase, openUntilMs: Int64?, trips: Int, consecutiveFailures: Int, cause: ErrorClass?, probeAtMs: Int64?) {
        self.phase = phase
        self.openUntilMs = openUntilMs
        self.trips = trips
        self.consecutiveFailures = consecutiveFailures
        self.cause = cause
        self.probeAtMs = probeAtMs
    }

    /// The phase at `nowMs`: an open circuit whose time is up reads as halfOpen.
    public func phase(at nowMs: Int64) -> Phase {
        if phase == .open, let until = openUntilMs, until <= nowMs { return .halfOpen }
        return phase
    }

    /// Moves an open circuit whose time is up to halfOpen. Returns whether it did.
    @discardableResult
    public mutating func expire(at nowMs: Int64) -> Bool {
        guard phase == .open, let until = openUntilMs, until <= nowMs else { return false }
        phase = .halfOpen
        openUntilMs = nil
        probeAtMs = nil
        return true
    }

    /// Records a failure of class `cause` at `nowMs`.
    public mutating func recordFailure(_ cause: ErrorClass, at nowMs: Int64, threshold: Int, openMs: Int64,
                                       maxOpenMs: Int64) -> Outcome {
        expire(at: nowMs)
        switch phase {
        case .open:
            return .ignored
        case .halfOpen:
            return open(cause, at: nowMs, openMs: openMs, maxOpenMs: maxOpenMs)
        case .closed:
            consecutiveFailures += 1
            guard consecutiveFailures >= threshold else { return .counted(consecutiveFailures) }
            return open(cause, at: nowMs, openMs: openMs, maxOpenMs: maxOpenMs)
        }
    }

    /// Records a success at `nowMs`.
    public mutating func recordSuccess(at nowMs: Int64) -> Outcome {
        expire(at: nowMs)
        switch phase {
        case .open:
            return .ignored
        case .halfOpen:
            self = Circuit()
            return .closed
        case .closed:
            consecutiveFailures = 0
            return .counted(0)
        }
    }

    /// Hands out the halfOpen probe: true once, then false until the probe's result is
    /// recorded or `timeoutMs` passed without one.
    public mutating func admitProbe(at nowMs: Int64, timeoutMs: Int64) -> Bool {
        guard phase == .halfOpen else { return phase == .closed }
        guard probeFree(at: nowMs, timeoutMs: timeoutMs) else { return false }
        probeAtMs = nowMs
        return true
    }

    /// Whether `admitProbe` would hand the probe out now (without handing it out).
    public func probeFree(at nowMs: Int64, timeoutMs: Int64) -> Bool {
        guard phase == .halfOpen else { return phase == .closed }
        guard let given = probeAtMs else { return true }
        return HostTime.elapsed(from: given, to: nowMs) >= timeoutMs
    }

    /// When an unanswered probe may be handed out again.
    func probeRetryAt(timeoutMs: Int64) -> Int64? {
        guard phase == .halfOpen, let given = probeAtMs else { return nil }
        return HostTime.deadline(given, plus: timeoutMs)
    }

    /// A result other than success or failure arrived (e.g. a 429): the probe is spent, a new
    /// one may go out when the key is usable again.
    mutating func releaseProbe() {
        probeAtMs = nil
    }

    private mutating func open(_ cause: ErrorClass, at nowMs: Int64, openMs: Int64, maxOpenMs: Int64) -> Outcome {
        trips += 1
        let until = HostTime.deadline(nowMs, plus: min(openMs.multipliedSaturating(by: Int64(trips)), maxOpenMs))
        phase = .open
        openUntilMs = until
        consecutiveFailures = 0
        probeAtMs = nil
        self.cause = cause
        return .opened(untilMs: until)
    }

    /// A circuit read back from the store: one whose open time is over is not restored.
    mutating func dropExpired(at nowMs: Int64) {
        if phase == .halfOpen || (phase == .open && (openUntilMs ?? 0) <= nowMs) { self = Circuit() }
    }
}
