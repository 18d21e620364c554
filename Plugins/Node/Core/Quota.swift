/// A node's LLM quota limits (apex-bridge QuotaManager's `LLMQuotaConfig`; 0 means no limit).
public struct QuotaLimits: Sendable, Equatable {
    public var maxRequestsPerMinute = 30
    public var maxTokensPerDay: Int64 = 200_000
    public var maxConcurrentStreams = 3
    public var burstMultiplier = 2.0

    public init() {}

    mutating func apply(_ override: QuotaOverride?) {
        guard let override else { return }
        if let value = override.maxRequestsPerMinute { maxRequestsPerMinute = value }
        if let value = override.maxTokensPerDay { maxTokensPerDay = value }
        if let value = override.maxConcurrentStreams { maxConcurrentStreams = value }
        if let value = override.burstMultiplier { burstMultiplier = value }
    }

    /// The window's limit for a request of `kind`: streams get the burst multiplier (upstream's
    /// `Math.floor(max * burst)`).
    public func windowLimit(_ kind: PermitKind) -> Int {
        max(0, kind == .stream ? Int((Double(maxRequestsPerMinute) * burstMultiplier).rounded(.down)) : maxRequestsPerMinute)
    }
}

public enum PermitKind: String, Codable, Sendable {
    case request, stream
}

/// One node's quota counters, as apex-bridge keeps them (`NodeQuotaState`) plus the permits
/// handed out; persisted as `quota/<nodeId>`.
public struct QuotaState: Codable, Sendable, Equatable {
    /// Admission times (ms) of the last 60 s, oldest first.
    public var requests: [Int64] = []
    public var tokensToday: Int64 = 0
    /// The next UTC midnight: `tokensToday` starts again at 0 then.
    public var resetAt: Int64
    public var permits: [String: Permit] = [:]

    public static let windowMs: Int64 = 60_000
    public static let dayMs: Int64 = 86_400_000

    public init(now: Int64) {
        resetAt = Self.nextMidnight(after: now)
    }

    /// The UTC midnight after `now` (upstream's `getNextResetTimestamp`).
    public static func nextMidnight(after now: Int64) -> Int64 {
        let day = now >= 0 ? now / dayMs : (now - dayMs + 1) / dayMs
        return (day + 1) * dayMs
    }

    /// Drops what time has taken: entries older than the window (kept while `now - t < 60 s`,
    /// upstream's test), the day's tokens at the reset, lapsed permits (their estimated tokens
    /// are counted: a crashed caller probably spent them).
    public mutating func advance(to now: Int64) {
        if now >= resetAt {
            tokensToday = 0
            resetAt = Self.nextMidnight(after: now)
        }
        if let keep = requests.firstIndex(where: { now - $0 < Self.windowMs }) {
            if keep > 0 { requests.removeFirst(keep) }
        } else {
            requests.removeAll()
        }
        for (id, permit) in permits where permit.expiresAt <= now {
            permits[id] = nil
            tokensToday += permit.estimatedTokens ?? 0
        }
    }

    public var streamsInFlight: Int { permits.values.count(where: { $0.kind == .stream }) }

    /// Admits a request or refuses it, in upstream's order of checks (window, tokens, streams).
    /// Returns the refusal's reason and exact `retryAfterMs`, or nil when admitted (the entry
    /// and the permit are recorded).
    public mutating func acquire(
        _ kind: PermitKind, estimatedTokens: Int64?, limits: QuotaLimits, permitId: String, ttlMs: Int64, now: Int64
    ) -> QuotaRefusal? {
        advance(to: now)
        let window = limits.windowLimit(kind)
        if window > 0, requests.count >= window {
            let oldest = requests[requests.count - window]
            return QuotaRefusal(reason: "requests_per_minute_exceeded", message: "exceeded \(window) requests per minute",
                                retryAfterMs: oldest + Self.windowMs - now)
        }
        if limits.maxTokensPerDay > 0, tokensToday >= limits.maxTokensPerDay || tokensToday + (estimatedTokens ?? 0) > limits.maxTokensPerDay {
            return QuotaRefusal(reason: "token_quota_exceeded",
                                message: "daily token quota exceeded (\(tokensToday) of \(limits.maxTokensPerDay) used)",
                                retryAfterMs: resetAt - now)
        }
        if kind == .stream, limits.maxConcurrentStreams > 0, streamsInFlight >= limits.maxConcurrentStreams {
            let first = permits.values.filter { $0.kind == .stream }.map(\.expiresAt).min() ?? now
            return QuotaRefusal(reason: "stream_concurrency_exceeded",
                                message: "concurrent stream limit \(limits.maxConcurrentStreams) reached",
                                retryAfterMs: max(0, first - now))
        }
        requests.append(now)
        permits[permitId] = Permit(kind: kind, expiresAt: now + ttlMs, estimatedTokens: estimatedTokens)
        return nil
    }

    /// Ends a permit, recording the tokens it used (even past the limit: upstream records the
    /// overshoot). False when the permit is unknown or lapsed.
    public mutating func release(_ permitId: String, tokensUsed: Int64, now: Int64) -> Bool {
        advance(to: now)
        guard permits.removeValue(forKey: permitId) != nil else { return false }
        tokensToday += max(0, tokensUsed)
        return true
    }
}

public struct Permit: Codable, Sendable, Equatable {
    public var kind: PermitKind
    public var expiresAt: Int64
    public var estimatedTokens: Int64?
}

public struct QuotaRefusal: Sendable, Equatable {
    public var reason: String
    public var message: String
    public var retryAfterMs: Int64
}
