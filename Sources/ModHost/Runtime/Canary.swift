import ModHostJSON
import Synchronization

/// A new generation of a module serving a share of its calls beside the old one
/// (`modules.swap {..., mode: "canary", percent, stickyKey}`), from the safe-migration seed.
///
/// Both instances live in the module's one slot: one mailbox keeps the module's calls in order
/// (a serial module still runs one call at a time, whichever side runs it), one store and data
/// directory serve both (the module declared `MH_FLAG_MULTI_INSTANCE`). A call goes to the canary
/// when `hash(value at stickyKey) mod 100 < percent`, so the same session always lands on the same
/// side; a call without that value goes to the serving side; without a `stickyKey`, an evenly
/// spread pseudo-random share does. Each generation counts its calls in its own metrics.
final class Canary: Sendable {
    let instance: ModuleInstance
    /// The JSON pointer into params that picks the side, as given; nil: a random share.
    let stickyKey: String?
    private let stickyTokens: [String]?
    private let share = Atomic<Int>(0)
    /// Calls routed so far (the random share's sequence).
    private let routed = Atomic<UInt64>(0)

    /// Checks the canary's figures on the host clock, steps it up or rolls it back (`gates`).
    let gate: GateWatch?

    init(instance: ModuleInstance, percent: Int, stickyKey: String?, gate: GateWatch? = nil) throws(RPCError) {
        self.instance = instance
        self.stickyKey = stickyKey
        self.gate = gate
        if let stickyKey {
            guard let tokens = ShadowComparison.tokens(stickyKey) else {
                throw RPCError.invalidParams("\"stickyKey\" must be a JSON pointer into params such as \"/sessionId\", got \(JSONString.quotedText(stickyKey))")
            }
            stickyTokens = tokens
        } else {
            stickyTokens = nil
        }
        share.store(percent, ordering: .relaxed)
    }

    var percent: Int {
        get { share.load(ordering: .relaxed) }
        set { share.store(newValue, ordering: .relaxed) }
    }

    /// Whether `call` goes to the canary.
    func takes(_ call: Call) -> Bool {
        let percent = share.load(ordering: .relaxed)
        guard instance.state == .running, percent > 0 else { return false }
        guard let stickyTokens else {
            let n = routed.wrappingAdd(1, ordering: .relaxed).newValue
            return Self.mix(n) % 100 < UInt64(percent)
        }
        guard let value = call.withParams({ params, length in
            Self.value(at: stickyTokens, in: UnsafeBufferPointer(start: UnsafeRawPointer(params).assumingMemoryBound(to: UInt8.self), count: length))
        }) else { return false }
        return Self.bucket(of: value) < percent
    }

    /// Runs a call the canary took; with a gate, a failure is kept for its report.
    func run(_ call: Call) {
        if let gate {
            call.observer = { [unowned call] outcome, _ in  // told from inside call.finish: alive
                if case .error(let error) = outcome {
                    gate.keep(FailedCall(method: call.method, params: String(decoding: call.paramsBytes, as: UTF8.self),
                                         error: String(decoding: error.json, as: UTF8.self)))
                }
            }
        }
        instance.run(call)
    }

    /// What a gate checks: the canary generation's calls and errors against the serving
    /// one's (both since they started), and each one's p95 over every method.
    func gateFigures(serving: ModuleInstance) -> GateFigures {
        func totals(_ instance: ModuleInstance) -> (Int, Int, UInt64?) {
            var calls = 0
            var errors = 0
            var latency: MethodSeries.Latency?
            for snapshot in instance.metrics?.snapshots() ?? [] where snapshot.method != MethodSeries.unknownMethod {
                calls += snapshot.calls
                errors += snapshot.errors.values.reduce(0, +)
                if let histogram = snapshot.latency {
                    if latency == nil { latency = MethodSeries.makeHistogram() }
                    latency!.add(histogram)
                }
            }
            return (calls, errors, latency.flatMap { $0.totalCount > 0 ? $0.valueAtPercentile(95) : nil })
        }
        let (calls, errors, p95) = totals(instance)
        let (baselineCalls, baselineErrors, baselineP95) = totals(serving)
        return GateFigures(calls: calls, errors: errors, baselineCalls: baselineCalls, baselineErrors: baselineErrors,
                           p95Us: p95, baselineP95Us: baselineP95, percent: percent)
    }

    /// The bucket, 0 to 99, a sticky value falls in: FNV-1a over its text (a string's characters,
    /// anything else as compact JSON), mixed so that similar keys spread evenly.
    static func bucket(of value: JSONValue) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let text = value.string ?? value.text
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int(mix(hash) % 100)
    }

    /// splitmix64's finalizer.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    private static func value(at tokens: [String], in params: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        guard var value = try? JSONValue(parsing: params) else { return nil }
        for token in tokens {
            switch value {
            case .object(let members):
                guard let next = members[token] else { return nil }
                value = next
            case .array(let elements):
                guard let index = Int(token), elements.indices.contains(index) else { return nil }
                value = elements[index]
            default:
                return nil
            }
        }
        return value.isNull ? nil : value
    }
}
