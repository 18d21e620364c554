import Foundation
import ModHostJSON
import Synchronization

/// A gate on a shadow or a canary (`modules.swap {..., gates: {...}}`), from the safe-migration
/// seed: every `intervalMs` on the host clock the new generation's figures are checked against
/// the serving one's; once it has `minCalls` calls, passing promotes (a canary steps up through
/// `steps` first), failing rolls back, publishes `modules.rolled_back` and writes every
/// differing call to `<state>/reports/<id>-<generation>.jsonl`.
struct GateSpec: Encodable, Sendable {
    /// Calls the new generation must have had (a shadow: compared; a canary: since its last
    /// step) before a check decides anything.
    var minCalls = 100
    /// Shadow only: the largest share (0 to 1) of compared calls that may differ.
    var maxDiffer: Double?
    /// The most the new generation's error rate may exceed the serving one's (0 to 1: 0.01 is
    /// one point).
    var maxErrorRateDelta: Double?
    /// The most the new generation's p95 latency may be, as a multiple of the serving one's.
    var maxP95Ratio: Double?
    /// Canary only: the percentages it steps through on passing checks; 100 promotes.
    var steps: [Int]?

    /// How often a gate is checked, on the host clock.
    static let intervalMs: UInt64 = 60_000
    /// The most differing calls kept for the report; beyond this they are counted.
    static let maxReportSamples = 10_000
    static let defaultSteps = [5, 25, 50, 100]
    private static let members: Set<String> = ["minCalls", "maxDiffer", "maxErrorRateDelta", "maxP95Ratio", "steps"]

    /// Reads `gates` as given to `modules.swap`, for a shadow or a canary (-32602 naming the field).
    init(_ value: JSONValue, canary: Bool) throws(RPCError) {
        guard let object = value.object else {
            throw RPCError.invalidParams("\"gates\" must be an object such as {\"minCalls\": 200, \"maxErrorRateDelta\": 0.01, \"maxP95Ratio\": 1.5}")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.members.contains($0) }) {
            throw RPCError.invalidParams("\"gates\" has an unknown member \"\(unknown)\"; it takes \(Self.members.sorted().joined(separator: ", "))")
        }
        if let calls = object["minCalls"], !calls.isNull {
            guard let count = calls.int, count >= 1, count <= 1_000_000_000 else {
                throw RPCError.invalidParams("\"gates.minCalls\" must be a whole number of calls, at least 1, got \(calls.text)")
            }
            minCalls = Int(count)
        }
        func share(_ name: String) throws(RPCError) -> Double? {
            guard let raw = object[name], !raw.isNull else { return nil }
            guard let number = raw.double, (0...1).contains(number) else {
                throw RPCError.invalidParams("\"gates.\(name)\" must be a share from 0 to 1 (0.01: one point), got \(raw.text)")
            }
            return number
        }
        maxDiffer = try share("maxDiffer")
        maxErrorRateDelta = try share("maxErrorRateDelta")
        if let raw = object["maxP95Ratio"], !raw.isNull {
            guard let ratio = raw.double, ratio > 0, ratio.isFinite else {
                throw RPCError.invalidParams("\"gates.maxP95Ratio\" must be a number above 0 (1.5: at most half again as slow), got \(raw.text)")
            }
            maxP95Ratio = ratio
        }
        if maxDiffer != nil && canary {
            throw RPCError.invalidParams("\"gates.maxDiffer\" is for a shadow (a canary's calls are not compared); use maxErrorRateDelta or maxP95Ratio")
        }
        if let raw = object["steps"], !raw.isNull {
            guard canary else { throw RPCError.invalidParams("\"gates.steps\" is for a canary: the percentages it steps through") }
            guard let list = raw.array, !list.isEmpty else {
                throw RPCError.invalidParams("\"gates.steps\" must be a list of percentages such as [5, 25, 50, 100]")
            }
            var steps: [Int] = []
            for element in list {
                guard let step = element.int, (1...100).contains(step), step > (steps.last ?? 0) else {
                    throw RPCError.invalidParams("\"gates.steps\" must rise from 1 to at most 100, such as [5, 25, 50, 100]; got \(raw.text)")
                }
                steps.append(Int(step))
            }
            if steps.last != 100 { steps.append(100) }
            self.steps = steps
        } else if canary {
            steps = Self.defaultSteps
        }
    }

    /// The canary's next percentage after `percent` (100: promote).
    func step(after percent: Int) -> Int {
        (steps ?? Self.defaultSteps).first { $0 > percent } ?? 100
    }
}

/// The figures a check compares: the new generation's and the serving one's.
struct GateFigures: Encodable, Sendable {
    /// The new generation's calls counted in the check (a shadow: compared calls).
    var calls = 0
    var errors = 0
    var baselineCalls = 0
    var baselineErrors = 0
    var p95Us: UInt64?
    var baselineP95Us: UInt64?
    /// Shadow only.
    var differed: Int?
    /// Canary only: its share when checked.
    var percent: Int?

    var errorRate: Double? { calls > 0 ? Double(errors) / Double(calls) : nil }
    var baselineErrorRate: Double? { baselineCalls > 0 ? Double(baselineErrors) / Double(baselineCalls) : nil }

    enum CodingKeys: String, CodingKey {
        case calls, errors, baselineCalls, baselineErrors, p95Us, baselineP95Us, differed, percent, errorRate, baselineErrorRate
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(calls, forKey: .calls)
        try container.encode(errors, forKey: .errors)
        try container.encodeIfPresent(errorRate, forKey: .errorRate)
        try container.encode(baselineCalls, forKey: .baselineCalls)
        try container.encode(baselineErrors, forKey: .baselineErrors)
        try container.encodeIfPresent(baselineErrorRate, forKey: .baselineErrorRate)
        try container.encodeIfPresent(p95Us, forKey: .p95Us)
        try container.encodeIfPresent(baselineP95Us, forKey: .baselineP95Us)
        try container.encodeIfPresent(differed, forKey: .differed)
        try container.encodeIfPresent(percent, forKey: .percent)
    }

    /// Counts since `earlier` (a canary's window starts at its last step); latencies as they are.
    func since(_ earlier: GateFigures) -> GateFigures {
        var window = self
        window.calls -= earlier.calls
        window.errors -= earlier.errors
        window.baselineCalls -= earlier.baselineCalls
        window.baselineErrors -= earlier.baselineErrors
        return window
    }
}

/// One check's outcome, kept for `modules.describe`.
struct GateCheck: Encodable, Sendable {
    enum Verdict: String, Encodable, Sendable {
        case waiting, passed, failed
    }
    let atMs: Int64
    let verdict: Verdict
    let reason: String
    let metrics: GateFigures
}

extension GateSpec {
    /// Judges the figures of one window.
    func judge(_ figures: GateFigures, atMs: Int64) -> GateCheck {
        func percentText(_ rate: Double?) -> String { rate.map { String(format: "%.2f%%", $0 * 100) } ?? "none" }
        guard figures.calls >= minCalls else {
            return GateCheck(atMs: atMs, verdict: .waiting, reason: "\(figures.calls) of minCalls \(minCalls) calls so far", metrics: figures)
        }
        if let maxDiffer, let differed = figures.differed, Double(differed) > maxDiffer * Double(figures.calls) {
            let rate = Double(differed) / Double(figures.calls)
            return GateCheck(atMs: atMs, verdict: .failed,
                             reason: "\(differed) of \(figures.calls) compared calls differed (\(percentText(rate))), over maxDiffer \(percentText(maxDiffer))",
                             metrics: figures)
        }
        if let maxErrorRateDelta {
            let rate = figures.errorRate ?? 0
            let baseline = figures.baselineErrorRate ?? 0
            if rate - baseline > maxErrorRateDelta + 1e-12 {
                return GateCheck(atMs: atMs, verdict: .failed,
                                 reason: "error rate \(percentText(rate)) (\(figures.errors) of \(figures.calls) calls) against \(percentText(baseline)) serving: more than maxErrorRateDelta \(percentText(maxErrorRateDelta)) above it",
                                 metrics: figures)
            }
        }
        if let maxP95Ratio, let p95 = figures.p95Us, let baseline = figures.baselineP95Us {
            let ratio = Double(p95) / Double(max(baseline, 1))
            if ratio > maxP95Ratio {
                return GateCheck(atMs: atMs, verdict: .failed,
                                 reason: "p95 \(p95) µs against \(baseline) µs serving: \(String(format: "%.2f", ratio))×, over maxP95Ratio \(maxP95Ratio)",
                                 metrics: figures)
            }
        }
        return GateCheck(atMs: atMs, verdict: .passed, reason: "\(figures.calls) calls within every limit", metrics: figures)
    }
}

/// A gate watching one shadow or canary: its spec, its host timer, the start of the current
/// window, the last check, and the differing calls for the report.
final class GateWatch: Sendable {
    let spec: GateSpec
    private struct State {
        var timer: UInt64 = 0
        var windowStart = GateFigures()
        var last: GateCheck?
        var samples: [[UInt8]] = []
        var dropped = 0
        /// Promotions or rollbacks it decided in a row that failed, and checks left to skip.
        var failedChanges = 0
        var skipChecks = 0
    }
    private let state = Mutex(State())

    init(spec: GateSpec) {
        self.spec = spec
    }

    var timer: UInt64 {
        get { state.withLock { $0.timer } }
        set { state.withLock { $0.timer = newValue } }
    }

    var windowStart: GateFigures {
        get { state.withLock { $0.windowStart } }
        set { state.withLock { $0.windowStart = newValue } }
    }

    /// Whether this check is skipped: the change the gate last decided failed, and the next try
    /// backs off (the 1st failure is tried again at the next check, then after 2, 4, 8, … checks,
    /// at most an hour apart), since each try holds the module's calls up to the drain timeout.
    func skipsCheck() -> Bool {
        state.withLock { state in
            guard state.skipChecks > 0 else { return false }
            state.skipChecks -= 1
            return true
        }
    }

    /// The change just decided failed: returns the checks until the next try.
    func changeFailed() -> Int {
        state.withLock { state in
            state.failedChanges += 1
            state.skipChecks = min((1 << min(state.failedChanges - 1, 6)) - 1, 59)
            return state.skipChecks + 1
        }
    }

    var last: GateCheck? {
        get { state.withLock { $0.last } }
        set { state.withLock { $0.last = newValue } }
    }

    /// Keeps one differing call (a JSON object) for the report.
    func keep(_ sample: some Encodable) {
        let full = state.withLock { state -> Bool in
            if state.samples.count >= GateSpec.maxReportSamples {
                state.dropped += 1
                return true
            }
            return false
        }
        guard !full, let line = try? HostParams.encode(sample) else { return }
        state.withLock { $0.samples.append(line) }
    }

    /// The report's lines: every kept sample, then one line counting those not kept, if any.
    func reportLines() -> [[UInt8]] {
        state.withLock { state in
            state.dropped == 0 ? state.samples : state.samples + [Array(#"{"notKept":\#(state.dropped)}"#.utf8)]
        }
    }

    struct Summary: Encodable, Sendable {
        let gates: GateSpec
        let intervalMs: UInt64
        let lastCheck: GateCheck?
    }

    var summary: Summary { Summary(gates: spec, intervalMs: GateSpec.intervalMs, lastCheck: last) }
}

/// A canary call that failed, for the report.
struct FailedCall: Encodable, Sendable {
    let method: String
    let params: String
    let error: String
}
