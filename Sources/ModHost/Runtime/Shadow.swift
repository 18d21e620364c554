import Foundation
import Synchronization

/// A new version of a module running beside the serving one (`modules.swap {mode: "shadow"}`).
///
/// Every call the serving instance runs is mirrored to the shadow, on the shadow's own mailbox,
/// and the two outcomes are compared: equal results (byte for byte) or equal error codes count
/// as matches; the first differences are kept as samples for `modules.describe`. The shadow is
/// isolated: its store writes go to an in-memory overlay over the module's store, its events are
/// dropped, and its calls to other modules are refused, so mirroring never changes anything
/// outside it. `modules.promote` swaps the new version in; `modules.rollback` discards it.
final class Shadow: Sendable {
    struct Sample: Encodable {
        let method: String
        let params: String
        let serving: String
        let shadow: String
    }
    /// Per method: what was mirrored and compared, the match rate, and both sides' latency
    /// (microseconds, from each instance starting the call to its answer; HDR, 2 digits).
    struct MethodReport: Encodable {
        let method: String
        let mirrored: Int
        /// Calls not mirrored because of the method's `sample` share.
        let skipped: Int
        let matched: Int
        let differed: Int
        /// matched / (matched + differed); absent before the first comparison.
        let matchRate: Double?
        let servingP50Us: UInt64?
        let servingP95Us: UInt64?
        let servingP99Us: UInt64?
        let shadowP50Us: UInt64?
        let shadowP95Us: UInt64?
        let shadowP99Us: UInt64?
    }
    struct Report: Encodable {
        let version: String
        let generation: Int
        let file: String
        let mirrored: Int
        let skipped: Int
        let matched: Int
        let differed: Int
        let pending: Int
        let matchRate: Double?
        let keepSamples: Int
        let compare: [String: ShadowComparison.Rule]
        let methods: [MethodReport]
        let samples: [Sample]
        let gates: GateWatch.Summary?
    }

    let instance: ModuleInstance
    let slot: ModuleSlot
    let comparison: ShadowComparison
    private struct MethodCounts {
        var seen = 0
        var mirrored = 0
        var matched = 0
        var differed = 0
        var serving: MethodSeries.Latency?
        var shadow: MethodSeries.Latency?
    }
    private struct Counts {
        var mirrored = 0
        var skipped = 0
        var matched = 0
        var differed = 0
        /// Compared calls that failed on each side.
        var servingErrors = 0
        var shadowErrors = 0
        var methods: [String: MethodCounts] = [:]
        var samples: [Sample] = []
    }
    private let counts = Mutex(Counts())

    /// Checks the shadow's figures on the host clock and promotes or discards it (`gates`).
    let gate: GateWatch?

    init(instance: ModuleInstance, slot: ModuleSlot, comparison: ShadowComparison = ShadowComparison(), gate: GateWatch? = nil) {
        self.instance = instance
        self.slot = slot
        self.comparison = comparison
        self.gate = gate
    }

    /// Mirrors `call` (about to run on the serving instance) to the shadow, if the method's
    /// `sample` share takes it.
    func mirror(_ call: Call) {
        let rule = comparison.rule(for: call.method)
        let sampled = counts.withLock { counts in
            let seen = counts.methods[call.method, default: MethodCounts()].seen
            counts.methods[call.method, default: MethodCounts()].seen = seen + 1
            // Exactly the share, spread evenly: the n-th call is taken when floor(n * share) steps.
            let share = rule?.sample ?? 1
            let taken = share >= 1 || (share > 0 && (Double(seen + 1) * share).rounded(.down) > (Double(seen) * share).rounded(.down))
            if taken {
                counts.mirrored += 1
                counts.methods[call.method]!.mirrored += 1
            } else {
                counts.skipped += 1
            }
            return taken
        }
        guard sampled else { return }
        let pair = Comparison(method: call.method, params: call.paramsBytes, shadow: self)
        call.observer = { pair.record(serving: $0, nanoseconds: $1) }
        let copy = call.paramsBytes.withUnsafeBufferPointer { params in
            Call(method: call.method, slot: slot, reply: .handler({ _ in }), id: nil, params: params,
                 deadline: call.timeout, clientID: call.clientID)
        }
        copy.observer = { pair.record(shadow: $0, nanoseconds: $1) }
        slot.mailbox.post(.call(copy))
    }

    fileprivate func compared(_ method: String, _ params: [UInt8], serving: (CallOutcome, UInt64), shadow: (CallOutcome, UInt64)) {
        let same: Bool
        switch (serving.0, shadow.0) {
        case (.result(let a), .result(let b)): same = comparison.same(method, a, b)
        case (.error(let a), .error(let b)): same = a.code == b.code
        default: same = false
        }
        let differing = counts.withLock { counts -> Sample? in
            if case .error = serving.0 { counts.servingErrors += 1 }
            if case .error = shadow.0 { counts.shadowErrors += 1 }
            var perMethod = counts.methods[method, default: MethodCounts()]
            counts.methods[method] = nil  // recorded in place below, without a copy of the histograms
            if perMethod.serving == nil { perMethod.serving = MethodSeries.makeHistogram() }
            if perMethod.shadow == nil { perMethod.shadow = MethodSeries.makeHistogram() }
            perMethod.serving!.record(Swift.min(serving.1 / 1000, MethodSeries.highestMicros))
            perMethod.shadow!.record(Swift.min(shadow.1 / 1000, MethodSeries.highestMicros))
            counts.methods[method] = perMethod
            if same {
                counts.matched += 1
                counts.methods[method]!.matched += 1
                return nil
            }
            counts.differed += 1
            counts.methods[method]!.differed += 1
            let sample = Sample(method: method, params: String(decoding: params, as: UTF8.self),
                                serving: Self.text(serving.0), shadow: Self.text(shadow.0))
            if counts.samples.count < comparison.keepSamples { counts.samples.append(sample) }
            return sample
        }
        if let differing, let gate { gate.keep(differing) }
    }

    /// What a gate checks: compared calls, each side's errors and p95 over them, and how many
    /// differed (the serving side is the baseline of the same calls).
    func gateFigures() -> GateFigures {
        counts.withLock { counts in
            var serving: MethodSeries.Latency?
            var mirrored: MethodSeries.Latency?
            for method in counts.methods.values {
                if let histogram = method.serving {
                    if serving == nil { serving = MethodSeries.makeHistogram() }
                    serving!.add(histogram)
                }
                if let histogram = method.shadow {
                    if mirrored == nil { mirrored = MethodSeries.makeHistogram() }
                    mirrored!.add(histogram)
                }
            }
            let compared = counts.matched + counts.differed
            return GateFigures(
                calls: compared, errors: counts.shadowErrors, baselineCalls: compared, baselineErrors: counts.servingErrors,
                p95Us: mirrored.flatMap { $0.totalCount > 0 ? $0.valueAtPercentile(95) : nil },
                baselineP95Us: serving.flatMap { $0.totalCount > 0 ? $0.valueAtPercentile(95) : nil },
                differed: counts.differed)
        }
    }

    var report: Report {
        counts.withLock { counts in
            let methods = counts.methods.keys.sorted().map { name -> MethodReport in
                let method = counts.methods[name]!
                func micros(_ histogram: MethodSeries.Latency?, _ percentile: Double) -> UInt64? {
                    guard let histogram, histogram.totalCount > 0 else { return nil }
                    return histogram.valueAtPercentile(percentile)
                }
                return MethodReport(
                    method: name, mirrored: method.mirrored, skipped: method.seen - method.mirrored, matched: method.matched,
                    differed: method.differed, matchRate: Self.rate(method.matched, method.differed),
                    servingP50Us: micros(method.serving, 50), servingP95Us: micros(method.serving, 95),
                    servingP99Us: micros(method.serving, 99), shadowP50Us: micros(method.shadow, 50),
                    shadowP95Us: micros(method.shadow, 95), shadowP99Us: micros(method.shadow, 99))
            }
            return Report(
                version: instance.descriptor.version, generation: instance.generation, file: instance.image.file,
                mirrored: counts.mirrored, skipped: counts.skipped, matched: counts.matched, differed: counts.differed,
                pending: counts.mirrored - counts.matched - counts.differed, matchRate: Self.rate(counts.matched, counts.differed),
                keepSamples: comparison.keepSamples, compare: comparison.rules, methods: methods, samples: counts.samples,
                gates: gate?.summary)
        }
    }

    private static func rate(_ matched: Int, _ differed: Int) -> Double? {
        matched + differed == 0 ? nil : Double(matched) / Double(matched + differed)
    }

    private static func text(_ outcome: CallOutcome) -> String {
        switch outcome {
        case .result(let bytes): String(decoding: bytes, as: UTF8.self)
        case .error(let error): String(decoding: error.json, as: UTF8.self)
        }
    }
}

/// The two outcomes of one mirrored call, each with its latency; compares once both are in.
private final class Comparison: Sendable {
    private let method: String
    private let params: [UInt8]
    private let shadow: Shadow
    private let outcomes = Mutex<(serving: (CallOutcome, UInt64)?, shadow: (CallOutcome, UInt64)?)>((nil, nil))

    init(method: String, params: [UInt8], shadow: Shadow) {
        self.method = method
        self.params = params
        self.shadow = shadow
    }

    func record(serving outcome: CallOutcome, nanoseconds: UInt64) {
        let both = outcomes.withLock { outcomes -> ((CallOutcome, UInt64), (CallOutcome, UInt64))? in
            outcomes.serving = (outcome, nanoseconds)
            return outcomes.shadow.map { ((outcome, nanoseconds), $0) }
        }
        if let (serving, mirrored) = both { shadow.compared(method, params, serving: serving, shadow: mirrored) }
    }

    func record(shadow outcome: CallOutcome, nanoseconds: UInt64) {
        let both = outcomes.withLock { outcomes -> ((CallOutcome, UInt64), (CallOutcome, UInt64))? in
            outcomes.shadow = (outcome, nanoseconds)
            return outcomes.serving.map { ($0, (outcome, nanoseconds)) }
        }
        if let (serving, mirrored) = both { shadow.compared(method, params, serving: serving, shadow: mirrored) }
    }
}

/// A shadow's view of its module's store: reads fall through to the real store, writes stay in
/// memory and vanish with the shadow.
final class StoreOverlay: Sendable {
    private let module: String
    private let store: any ModuleStore
    /// Written values; nil marks a deleted key.
    private let written = Mutex<[[UInt8]: [UInt8]?]>([:])

    init(module: String, store: any ModuleStore) {
        self.module = module
        self.store = store
    }

    func get(_ key: [UInt8]) throws -> [UInt8]? {
        if let local = written.withLock({ $0[key] }) { return local }
        return try store.get(module: module, key: key)
    }

    func put(_ key: [UInt8], _ value: [UInt8]) { written.withLock { $0[key] = .some(value) } }

    func delete(_ key: [UInt8]) { written.withLock { $0[key] = .some(nil) } }

    func list(prefix: [UInt8]) throws -> [([UInt8], [UInt8])] {
        var merged: [[UInt8]: [UInt8]] = [:]
        for (key, value) in try store.list(module: module, prefix: prefix) { merged[key] = value }
        for (key, value) in written.withLock({ $0 }) where key.starts(with: prefix) { merged[key] = value }
        return merged.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
    }
}
