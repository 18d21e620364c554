import NodeCore
import Testing

/// apex-bridge's QuotaManager tests, case by case (tests/core/QuotaManager.test.ts at eba792d),
/// then the edges MODULES.md adds (exact retryAfterMs, the window, midnight, lapsed permits).
@Suite struct QuotaTests {
    static func limits(_ rpm: Int = 30, tokens: Int64 = 200_000, streams: Int = 3, burst: Double = 2) -> QuotaLimits {
        var limits = QuotaLimits()
        limits.maxRequestsPerMinute = rpm
        limits.maxTokensPerDay = tokens
        limits.maxConcurrentStreams = streams
        limits.burstMultiplier = burst
        return limits
    }
    static let t0: Int64 = 1_767_225_600_000
    func acquire(_ state: inout QuotaState, _ kind: PermitKind, _ limits: QuotaLimits, at now: Int64 = t0,
                 estimate: Int64? = nil) -> (String, QuotaRefusal?) {
        let id = "p\(state.requests.count)-\(now)"
        return (id, state.acquire(kind, estimatedTokens: estimate, limits: limits, permitId: id, ttlMs: 600_000, now: now))
    }

    @Test func allowsRequestsUnderLimits() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits(2, tokens: 100, streams: 1, burst: 1)
        #expect(acquire(&state, .request, limits).1 == nil)
        #expect(acquire(&state, .request, limits).1 == nil)
    }

    @Test func blocksWhenPerMinuteLimitExceeded() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits(1, burst: 1)
        _ = acquire(&state, .request, limits)
        #expect(acquire(&state, .request, limits).1?.reason == "requests_per_minute_exceeded")
    }

    @Test func blocksWhenConcurrentStreamLimitExceeded() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits(streams: 1)
        let (first, refused) = acquire(&state, .stream, limits)
        #expect(refused == nil)
        #expect(acquire(&state, .stream, limits).1?.reason == "stream_concurrency_exceeded")
        let released = state.release(first, tokensUsed: 0, now: Self.t0)
        #expect(released)
        #expect(acquire(&state, .stream, limits).1 == nil)
    }

    @Test func tracksTokenQuota() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits(tokens: 5)
        let (id, _) = acquire(&state, .request, limits)
        _ = state.release(id, tokensUsed: 5, now: Self.t0)
        #expect(acquire(&state, .request, limits).1?.reason == "token_quota_exceeded")
    }

    @Test func requests29And30AreAdmittedThe31stWaitsExactlyForTheOldest() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits()
        for i in 0..<30 { #expect(acquire(&state, .request, limits, at: Self.t0 + Int64(i) * 100).1 == nil) }
        let refusal = acquire(&state, .request, limits, at: Self.t0 + 5_000).1
        #expect(refusal?.retryAfterMs == 55_000)
        #expect(acquire(&state, .request, limits, at: Self.t0 + 59_999).1 != nil)
        #expect(acquire(&state, .request, limits, at: Self.t0 + 60_000).1 == nil)  // the oldest left: now - t < 60 s fails
    }

    @Test func streamsGetTheBurstOf60() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits(streams: 0)
        for _ in 0..<60 { #expect(acquire(&state, .stream, limits).1 == nil) }
        #expect(acquire(&state, .stream, limits).1?.reason == "requests_per_minute_exceeded")
        #expect(acquire(&state, .request, limits).1?.reason == "requests_per_minute_exceeded")
    }

    @Test func theTokenDayResetsAtUTCMidnight() {
        let midnight = Self.t0 + 86_400_000
        var state = QuotaState(now: midnight - 1)
        let limits = Self.limits(tokens: 100)
        let (id, _) = acquire(&state, .request, limits, at: midnight - 1)
        _ = state.release(id, tokensUsed: 150, now: midnight - 1)
        #expect(state.tokensToday == 150)  // the overshoot is recorded
        #expect(acquire(&state, .request, limits, at: midnight - 1).1?.retryAfterMs == 1)
        #expect(acquire(&state, .request, limits, at: midnight).1 == nil)
        #expect(state.tokensToday == 0 && state.resetAt == midnight + 86_400_000)
    }

    @Test func anEstimatePastTheDayIsRefused() {
        var state = QuotaState(now: Self.t0)
        #expect(acquire(&state, .request, Self.limits(tokens: 100), estimate: 101).1?.reason == "token_quota_exceeded")
        #expect(acquire(&state, .request, Self.limits(tokens: 100), estimate: 100).1 == nil)
    }

    @Test func aLapsedPermitFreesItsStreamAndCannotBeReleased() {
        var state = QuotaState(now: Self.t0)
        let limits = Self.limits(streams: 1)
        let (id, _) = acquire(&state, .stream, limits, estimate: 40)
        #expect(acquire(&state, .stream, limits, at: Self.t0 + 599_999).1?.retryAfterMs == 1)
        #expect(acquire(&state, .stream, limits, at: Self.t0 + 600_000).1 == nil)
        let released = state.release(id, tokensUsed: 10, now: Self.t0 + 600_001)
        #expect(!released)
        #expect(state.tokensToday == 40)  // a lapsed permit counts its estimate
    }
}
