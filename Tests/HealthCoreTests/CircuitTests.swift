@testable import HealthCore
import ModuleContracts
import Testing

/// The circuit breaker against sony/gobreaker's `TestDefaultCircuitBreaker` (gobreaker_test.go),
/// step by step, adapted to this module's settings: the default breaker trips on more than 5
/// consecutive failures and stays open 60 s; ours trips on 3 and stays open 30 s × trips.
/// gobreaker's `Counts{Requests, TotalSuccesses, TotalFailures, ConsecutiveSuccesses,
/// ConsecutiveFailures}` map onto `consecutiveFailures` (the one count the rule reads).
@Suite struct CircuitTests {
    let threshold = 3
    let openMs: Int64 = 30_000
    let maxOpenMs: Int64 = 300_000

    private func fail(_ circuit: inout Circuit, at now: Int64) -> Circuit.Outcome {
        circuit.recordFailure(.server, at: now, threshold: threshold, openMs: openMs, maxOpenMs: maxOpenMs)
    }

    private func succeed(_ circuit: inout Circuit, at now: Int64) -> Circuit.Outcome {
        circuit.recordSuccess(at: now)
    }

    private func expire(_ circuit: inout Circuit, at now: Int64) -> Bool {
        circuit.expire(at: now)
    }

    private func admit(_ circuit: inout Circuit, at now: Int64) -> Bool {
        circuit.admitProbe(at: now, timeoutMs: 30_000)
    }

    @Test func defaultCircuitBreakerSequence() {
        var circuit = Circuit()
        var now = t0

        // for i < 5 { fail }: closed, ConsecutiveFailures 5 → ours: 2 failures, below the threshold.
        for count in 1...2 { #expect(fail(&circuit, at: now) == .counted(count)) }
        #expect(circuit.phase(at: now) == .closed && circuit.consecutiveFailures == 2)

        // succeed: closed, ConsecutiveFailures 0.
        #expect(succeed(&circuit, at: now) == .counted(0))
        #expect(circuit.phase(at: now) == .closed && circuit.consecutiveFailures == 0)

        // fail: closed, ConsecutiveFailures 1.
        #expect(fail(&circuit, at: now) == .counted(1))
        #expect(circuit.phase(at: now) == .closed)

        // StateClosed to StateOpen: the threshold of consecutive failures; counts cleared,
        // expiry set.
        #expect(fail(&circuit, at: now) == .counted(2))
        #expect(fail(&circuit, at: now) == .opened(untilMs: now + openMs))
        #expect(circuit.phase(at: now) == .open && circuit.consecutiveFailures == 0 && circuit.trips == 1)
        #expect(circuit.openUntilMs == now + openMs)

        // While open, a success and a failure are rejected and change no count.
        #expect(succeed(&circuit, at: now) == .ignored)
        #expect(fail(&circuit, at: now) == .ignored)
        #expect(circuit.consecutiveFailures == 0 && circuit.trips == 1)

        // pseudoSleep(59 s) → still open: ours 1 ms before the timeout.
        #expect(circuit.phase(at: now + openMs - 1) == .open)

        // StateOpen to StateHalfOpen: over the timeout; expiry cleared.
        now += openMs
        #expect(circuit.phase(at: now) == .halfOpen)
        #expect(expire(&circuit, at: now))
        #expect(circuit.openUntilMs == nil)

        // StateHalfOpen to StateOpen: the probe failed. Ours opens one trip longer (60 s).
        #expect(fail(&circuit, at: now) == .opened(untilMs: now + 2 * openMs))
        #expect(circuit.phase(at: now) == .open && circuit.consecutiveFailures == 0 && circuit.trips == 2)

        // StateOpen to StateHalfOpen.
        now += 2 * openMs
        #expect(circuit.phase(at: now) == .halfOpen)

        // StateHalfOpen to StateClosed: the probe succeeded; counts (and trips) cleared.
        #expect(succeed(&circuit, at: now) == .closed)
        #expect(circuit == Circuit())
    }

    /// MaxRequests 1 in halfOpen: one probe, then refusals until its result or its timeout.
    @Test func halfOpenAdmitsOneProbe() {
        var circuit = Circuit()
        for _ in 1...3 { _ = fail(&circuit, at: t0) }
        let now = t0 + openMs
        #expect(!admit(&circuit, at: now - 1))
        circuit.expire(at: now)
        #expect(admit(&circuit, at: now))
        #expect(!admit(&circuit, at: now + 1))
        #expect(!admit(&circuit, at: now + 29_999))
        #expect(admit(&circuit, at: now + 30_000), "an unanswered probe times out")
    }

    @Test func openTimeGrowsWithTripsUpToTheMaximum() {
        var circuit = Circuit()
        var now = t0
        for _ in 1...3 { _ = fail(&circuit, at: now) }
        var expected: [Int64] = []
        var actual: [Int64] = []
        for trips in 2...12 {
            now = circuit.openUntilMs ?? now
            if case .opened(let until) = fail(&circuit, at: now) { actual.append(until - now) }
            expected.append(min(openMs * Int64(trips), maxOpenMs))
        }
        #expect(actual == expected)
    }

    /// The same sequence through the engine and `health.available`.
    @Test func engineFollowsTheSequence() throws {
        let bench = Bench()
        let key = "openai.k1"
        for _ in 1...2 { #expect(try bench.report(key, status: 500, at: t0).state == .healthy) }
        #expect(try bench.status(key, at: t0).consecutiveErrors[.server] == 2)
        #expect(try bench.success(key, at: t0).state == .healthy)
        #expect(try bench.status(key, at: t0).consecutiveErrors[.server] == 0)
        #expect(try bench.report(key, status: 500, at: t0).state == .healthy)
        #expect(try bench.report(key, status: 502, at: t0).state == .healthy)
        let opened = try bench.report(key, status: 503, at: t0)
        #expect(opened.state == .open && opened.untilMs == t0 + 30 * second)
        #expect(bench.takeEvents() == ["health.opened openai.k1"])

        // Open: refused, results ignored.
        #expect(bench.available([key], at: t0 + 30 * second - 1).unavailable.map(\.state) == ["open"])
        #expect(try bench.success(key, at: t0 + 1).state == .open)
        #expect(try bench.report(key, status: 500, at: t0 + 2).untilMs == t0 + 30 * second)
        #expect(try bench.status(key, at: t0 + 2).trips == 1)

        // HalfOpen: one probe; status does not take it.
        var now = t0 + 30 * second
        #expect(try bench.state(key, at: now) == .halfOpen)
        #expect(bench.available(["x", key], at: now).available == ["x", key])
        let refused = bench.available([key], at: now)
        #expect(refused.available.isEmpty && refused.unavailable.first?.state == "halfOpen")
        #expect(refused.unavailable.first?.untilMs == now + 30_000 && refused.earliestRecoveryMs == now + 30_000)

        // Failed probe: open for 60 s.
        #expect(try bench.report(key, status: 500, at: now).untilMs == now + 60 * second)
        #expect(try bench.status(key, at: now).trips == 2)

        // Successful probe: closed, trips and counts cleared.
        now += 60 * second
        #expect(bench.available([key], at: now).available == [key])
        _ = bench.takeEvents()
        #expect(try bench.success(key, at: now).state == .healthy)
        #expect(bench.takeEvents() == ["health.recovered openai.k1"])
        let closed = try bench.status(key, at: now)
        #expect(closed.trips == 0 && closed.consecutiveErrors.isZero && closed.untilMs == nil)
        #expect(bench.available([key, key], at: now).available == [key, key])
    }

    /// A 429 answering the probe spends it; the key gets a new probe once its cooldown ends.
    @Test func rateLimitedProbeIsReleased() throws {
        let bench = Bench()
        for _ in 1...3 { try bench.report("k", errorClass: .network, at: t0) }
        let now = t0 + 30 * second
        #expect(bench.available(["k"], at: now).available == ["k"])
        #expect(try bench.report("k", status: 429, retryAfter: .seconds(5), at: now).state == .cooldown)
        #expect(try bench.state("k", at: now + 5 * second) == .halfOpen)
        #expect(bench.available(["k"], at: now + 5 * second).available == ["k"])
    }
}
