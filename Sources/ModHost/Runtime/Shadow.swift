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
    struct Report: Encodable {
        let version: String
        let generation: Int
        let file: String
        let mirrored: Int
        let matched: Int
        let differed: Int
        let pending: Int
        let samples: [Sample]
    }
    static let sampleLimit = 5

    let instance: ModuleInstance
    let slot: ModuleSlot
    private struct Counts {
        var mirrored = 0
        var matched = 0
        var differed = 0
        var samples: [Sample] = []
    }
    private let counts = Mutex(Counts())

    init(instance: ModuleInstance, slot: ModuleSlot) {
        self.instance = instance
        self.slot = slot
    }

    /// Mirrors `call` (about to run on the serving instance) to the shadow.
    func mirror(_ call: Call) {
        let comparison = Comparison(method: call.method, params: call.paramsBytes, shadow: self)
        call.observer = { comparison.record(serving: $0) }
        let copy = call.paramsBytes.withUnsafeBufferPointer { params in
            Call(method: call.method, slot: slot, reply: .handler({ comparison.record(shadow: $0) }), id: nil, params: params,
                 deadline: call.timeout, clientID: call.clientID)
        }
        counts.withLock { $0.mirrored += 1 }
        slot.mailbox.post(.call(copy))
    }

    fileprivate func compared(_ method: String, _ params: [UInt8], serving: CallOutcome, shadow: CallOutcome) {
        let same: Bool
        switch (serving, shadow) {
        case (.result(let a), .result(let b)): same = a == b
        case (.error(let a), .error(let b)): same = a.code == b.code
        default: same = false
        }
        counts.withLock { counts in
            if same {
                counts.matched += 1
            } else {
                counts.differed += 1
                if counts.samples.count < Self.sampleLimit {
                    counts.samples.append(Sample(
                        method: method, params: String(decoding: params, as: UTF8.self),
                        serving: Self.text(serving), shadow: Self.text(shadow)))
                }
            }
        }
    }

    var report: Report {
        counts.withLock { counts in
            Report(
                version: instance.descriptor.version, generation: instance.generation, file: instance.image.file,
                mirrored: counts.mirrored, matched: counts.matched, differed: counts.differed,
                pending: counts.mirrored - counts.matched - counts.differed, samples: counts.samples)
        }
    }

    private static func text(_ outcome: CallOutcome) -> String {
        switch outcome {
        case .result(let bytes): String(decoding: bytes, as: UTF8.self)
        case .error(let error): String(decoding: error.json, as: UTF8.self)
        }
    }
}

/// The two outcomes of one mirrored call; compares once both are in.
private final class Comparison: Sendable {
    private let method: String
    private let params: [UInt8]
    private let shadow: Shadow
    private let outcomes = Mutex<(serving: CallOutcome?, shadow: CallOutcome?)>((nil, nil))

    init(method: String, params: [UInt8], shadow: Shadow) {
        self.method = method
        self.params = params
        self.shadow = shadow
    }

    func record(serving outcome: CallOutcome) {
        let both = outcomes.withLock { outcomes -> (CallOutcome, CallOutcome)? in
            outcomes.serving = outcome
            return outcomes.shadow.map { (outcome, $0) }
        }
        if let (serving, mirrored) = both { shadow.compared(method, params, serving: serving, shadow: mirrored) }
    }

    func record(shadow outcome: CallOutcome) {
        let both = outcomes.withLock { outcomes -> (CallOutcome, CallOutcome)? in
            outcomes.shadow = outcome
            return outcomes.serving.map { ($0, outcome) }
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
