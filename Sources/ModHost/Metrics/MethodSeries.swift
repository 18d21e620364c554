import Dispatch
import Foundation
import Histogram
import Synchronization

/// The calls of one method of one module generation: how many, errors by code, how many are in
/// flight, and their latency in an HDR histogram (microseconds, two significant digits).
///
/// The hot path (`begin`, `end`) takes one short lock and never copies a histogram: the series
/// keeps an *active* histogram that calls record into, created on the method's first call. A
/// reader (`snapshot`) swaps an empty histogram in under that lock (a move, not a copy), then,
/// outside it, merges the swapped-out one into its accumulated histogram and keeps it, reset,
/// as the empty one for the next read. Readers take turns on a lock of their own.
public final class MethodSeries: Sendable {
    typealias Latency = Histogram<UInt64>

    /// The label of calls to names the module does not declare: one series for all of them, so
    /// garbage names never make new series.
    static let unknownMethod = "_unknown"
    /// Latencies above this (one hour) are recorded as this.
    static let highestMicros: UInt64 = 3_600_000_000

    static func makeHistogram() -> Latency {
        Latency(lowestDiscernibleValue: 1, highestTrackableValue: highestMicros, numberOfSignificantValueDigits: .two)
    }

    /// The empty histogram every series starts from: a copy shares its counts, so a series'
    /// own are allocated by its first record (copy on write), and never again.
    private static let empty = makeHistogram()

    let method: String

    private struct Active {
        /// Not optional, so the call path neither checks nor copies one (a copy of `empty` until
        /// the first record gives it its own counts).
        var latency: Latency = MethodSeries.empty
        var calls = 0
        var errors: [Int32: Int] = [:]
        var totalNanoseconds: UInt64 = 0
    }
    private let active = ShortLock(Active())
    private let inFlight = Atomic<Int>(0)

    private struct Reader {
        var merged: Latency?
        var spare: Latency?
    }
    private let reader = ShortLock(Reader())

    public init(method: String) {
        self.method = method
    }

    /// A call of this method starts running.
    @inline(__always)
    public func begin() {
        inFlight.wrappingAdd(1, ordering: .relaxed)
    }

    /// The call `begin` counted was answered after `nanoseconds`, with an error's code (nil: a
    /// result).
    @inline(__always)
    public func end(nanoseconds: UInt64, errorCode: Int32?) {
        inFlight.wrappingSubtract(1, ordering: .relaxed)
        record(nanoseconds: nanoseconds, errorCode: errorCode)
    }

    /// Records one answered call (without touching the in-flight count).
    @inline(__always)
    func record(nanoseconds: UInt64, errorCode: Int32?) {
        let micros = Swift.min(nanoseconds / 1000, Self.highestMicros)
        active.withLock { active in
            active.latency.record(micros)
            active.calls &+= 1
            active.totalNanoseconds &+= nanoseconds
            if let errorCode { active.errors[errorCode, default: 0] += 1 }
        }
    }

    /// A call refused before it reached the module (an undeclared method name): counted, with
    /// its error, but not timed.
    func refused(code: Int32) {
        active.withLock { active in
            active.calls &+= 1
            active.errors[code, default: 0] += 1
        }
    }

    struct Snapshot: Sendable {
        let method: String
        let calls: Int
        let errors: [Int32: Int]
        let inFlight: Int
        let totalNanoseconds: UInt64
        /// Everything recorded so far (nil: no call was timed).
        let latency: Latency?

        func micros(atPercentile percentile: Double) -> UInt64? {
            guard let latency, latency.totalCount > 0 else { return nil }
            return latency.valueAtPercentile(percentile)
        }
    }

    /// The calls counted so far and the p99 in microseconds (what the benchmark checks).
    public func read() -> (calls: Int, p99Micros: UInt64?) {
        let snapshot = snapshot()
        return (snapshot.calls, snapshot.micros(atPercentile: 99))
    }

    /// What the series counted so far. The hot path is held only for the swap.
    func snapshot() -> Snapshot {
        reader.withLock { reader in
            var swapped: Latency = reader.spare.take() ?? Self.empty
            let (calls, errors, total) = active.withLock { active -> (Int, [Int32: Int], UInt64) in
                swap(&active.latency, &swapped)
                return (active.calls, active.errors, active.totalNanoseconds)
            }
            // `swapped` now holds what calls recorded since the last read.
            if swapped.totalCount > 0 {
                if reader.merged == nil { reader.merged = Self.makeHistogram() }
                reader.merged!.add(swapped)
                swapped.reset()
            }
            reader.spare = swapped
            return Snapshot(
                method: method, calls: calls, errors: errors, inFlight: inFlight.load(ordering: .relaxed),
                totalNanoseconds: total, latency: reader.merged)
        }
    }
}

/// The series of one module generation: one per declared method (and typed export), made at
/// start (each creates its histogram on its first call), plus the one for undeclared names.
/// The table never changes, so the call path reads it without a lock.
final class GenerationMetrics: Sendable {
    let module: String
    let generation: Int
    let version: String
    let isShadow: Bool
    private let series: [String: MethodSeries]
    let unknown = MethodSeries(method: MethodSeries.unknownMethod)

    init(module: String, generation: Int, version: String, isShadow: Bool, methods: some Sequence<String>) {
        self.module = module
        self.generation = generation
        self.version = version
        self.isShadow = isShadow
        var series: [String: MethodSeries] = [:]
        for method in methods { series[method] = MethodSeries(method: method) }
        self.series = series
    }

    /// The series a call of `method` counts in.
    @inline(__always)
    func series(for method: String) -> MethodSeries { series[method] ?? unknown }

    /// Whether `method` is one of the generation's declared names.
    func declares(_ method: String) -> Bool { series[method] != nil }

    /// Snapshots of the series that have seen a call, by method name (the unknown one last).
    func snapshots() -> [MethodSeries.Snapshot] {
        let declared = series.keys.sorted().map { series[$0]!.snapshot() }
        return (declared + [unknown.snapshot()]).filter { $0.calls > 0 || $0.inFlight > 0 }
    }
}

/// Every module generation's metrics while its module is loaded (`modules.metrics`,
/// `host.metrics`); nil in the runtime with `--no-metrics`.
final class HostMetrics: Sendable {
    /// Generations kept per module (the oldest go first): a swap, a rollback and a shadow
    /// leave the ones a comparison needs.
    static let generationsKept = 8
    private let modules = Mutex<[String: [GenerationMetrics]]>([:])

    /// The metrics of `generation` of `module`, made on its first start (a restart after a
    /// failed swap or a rollback finds the same).
    func generation(module: String, generation: Int, version: String, isShadow: Bool, methods: some Sequence<String>) -> GenerationMetrics {
        modules.withLock { modules in
            if let existing = modules[module]?.first(where: { $0.generation == generation }) { return existing }
            let made = GenerationMetrics(module: module, generation: generation, version: version, isShadow: isShadow, methods: methods)
            var list = modules[module, default: []]
            list.append(made)
            list.sort { $0.generation < $1.generation }
            if list.count > Self.generationsKept { list.removeFirst(list.count - Self.generationsKept) }
            modules[module] = list
            return made
        }
    }

    /// Drops a module's metrics (it was unloaded).
    func forget(module: String) {
        _ = modules.withLock { $0.removeValue(forKey: module) }
    }

    /// Module ids with metrics, sorted, and each one's generations, oldest first.
    func all() -> [(module: String, generations: [GenerationMetrics])] {
        modules.withLock { modules in modules.keys.sorted().map { ($0, modules[$0]!) } }
    }

    func generations(of module: String) -> [GenerationMetrics]? {
        modules.withLock { $0[module] }
    }
}

/// A value behind a spin lock, for the call path's short critical sections (a few dozen
/// instructions: a histogram record, a swap of two histograms). Uncontended it is one
/// compare-and-swap and one store; a waiter spins a little, then yields its core, so a holder
/// that was preempted is not spun against. In `modhost-bench metrics` (callgrind, the
/// benchmark loop's own instructions included), a record took 682 instructions under
/// Synchronization's `Mutex` (a priority-inheritance futex on Linux) with an optional histogram
/// (copied through value witnesses), 214 under a pthread mutex with a plain one, 160 under this
/// lock: about 24 ns.
///
/// The value lives behind a pointer, not in a stored `var`, so an access checks no exclusivity
/// at run time.
final class ShortLock<Value>: @unchecked Sendable {
    private let locked = Atomic<Bool>(false)
    private let value = UnsafeMutablePointer<Value>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value.initialize(to: value)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        if !locked.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { wait() }
        defer { locked.store(false, ordering: .releasing) }
        return try body(&value.pointee)
    }

    @inline(never)
    private func wait() {
        var spins = 0
        while true {
            if !locked.load(ordering: .relaxed), locked.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                return
            }
            spins += 1
            if spins > 100 { sched_yield() }
        }
    }
}
