import Dispatch
import Foundation
import ModHost
import ModHostTestKit

/// The cost of call metrics: recording one call in a tight loop over the recorder (alone, with
/// the two clock reads the call path adds, and with a reader swapping and merging every
/// millisecond), and pipelined `echo.ping` calls/s of one build with metrics on and with
/// `--no-metrics`, in interleaved rounds.
struct MetricsBench {
    let calls: Int
    let plugins: String
    let modhost: URL
    /// A plugin directory with an echo build declaring MH_FLAG_MULTI_INSTANCE, and a second such
    /// build elsewhere to canary (nil: no canary rounds).
    var canaryEcho: (plugins: String, second: String)?
    var iterations = 10_000_000

    func run() throws {
        // MODHOST_BENCH_RECORDER_ONLY=N: only N plain records, once (for instruction counts
        // under callgrind: the difference of two N over their difference).
        if let only = ProcessInfo.processInfo.environment["MODHOST_BENCH_RECORDER_ONLY"].flatMap(Int.init) {
            var bench = self
            bench.iterations = only
            let figure = bench.recorderNanoseconds(clock: false, reader: false, loops: 1)
            print(String(format: "%d records: %.1f ns each (thread CPU time)", only, figure.cpu))
            return
        }
        print("Call metrics (per module, generation and method; HDR histogram, 2 significant digits)")
        // Thread CPU time, so the figure is the work, not the waits of a busy machine (wall time beside).
        let record = recorderNanoseconds(clock: false, reader: false)
        let withClock = recorderNanoseconds(clock: true, reader: false)
        let withReader = recorderNanoseconds(clock: true, reader: true)
        print("  per recorded call (the recorder's thread CPU time; wall time in brackets):")
        print(String(format: "    recording one call:                      %6.1f ns  (%6.1f)", record.cpu, record.wall))
        print(String(format: "    with the call path's two clock reads:    %6.1f ns  (%6.1f)", withClock.cpu, withClock.wall))
        print(String(format: "    and a reader merging every 1 ms:         %6.1f ns  (%6.1f)", withReader.cpu, withReader.wall))

        let channel = ChannelBench(calls: calls, latencyCalls: 0, plugins: plugins, modhost: modhost)
        func rate(_ extra: [String]) throws -> Double {
            let state = try TemporaryDirectory.make(prefix: "modhost-bench-metrics")
            let child = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error"] + extra)
            defer { child.stop() }
            return channel.throughput(child).rate
        }
        // Interleaved rounds, so the machine's noise falls on both alike; the best of each.
        var on: [Double] = [], off: [Double] = []
        for _ in 0..<5 {
            on.append(try rate([]))
            off.append(try rate(["--no-metrics"]))
        }
        let bestOn = on.max()!, bestOff = off.max()!
        print("  pipelined echo.ping, \(calls) calls, best of 5 interleaved rounds:")
        print(String(format: "    metrics on:   %9.0f calls/s", bestOn))
        print(String(format: "    --no-metrics: %9.0f calls/s  (metrics cost %.1f%%)", bestOff, (1 - bestOn / bestOff) * 100))
        print("    rounds on:  " + on.map { String(format: "%.0f", $0) }.joined(separator: " "))
        print("    rounds off: " + off.map { String(format: "%.0f", $0) }.joined(separator: " "))
        if let canaryEcho { try canaryRounds(channel, canaryEcho) }
    }

    /// Pipelined echo.ping with a 50 % canary (no sticky key: every call draws its side) against
    /// the same multi-instance build serving alone, interleaved rounds.
    private func canaryRounds(_ channel: ChannelBench, _ builds: (plugins: String, second: String)) throws {
        func rate(canary: Bool) throws -> Double {
            let state = try TemporaryDirectory.make(prefix: "modhost-bench-canary")
            let child = try Child(modhost, ["--plugins", builds.plugins, "--state-dir", state, "--log-level", "error"])
            defer { child.stop() }
            if canary {
                let answer = child.call("modules.swap", #"{"id":"echo","path":"\#(builds.second)","mode":"canary","percent":50}"#)
                guard answer.contains(#""mode":"canary""#) else { throw BenchError("the canary did not start: \(answer)") }
            }
            return channel.throughput(child).rate
        }
        var with: [Double] = [], without: [Double] = []
        for _ in 0..<5 {
            with.append(try rate(canary: true))
            without.append(try rate(canary: false))
        }
        let best = with.max()!, alone = without.max()!
        print("  pipelined echo.ping, \(calls) calls, a 50 % canary against none (metrics on), best of 5 interleaved rounds:")
        print(String(format: "    no canary:     %9.0f calls/s", alone))
        print(String(format: "    50%% canary:    %9.0f calls/s  (%+.1f%%)", best, (best / alone - 1) * 100))
    }

    /// Nanoseconds per recorded call, the thread's CPU time and the wall time, best of 3 loops
    /// of `iterations`.
    private func recorderNanoseconds(clock: Bool, reader: Bool, loops: Int = 3) -> (cpu: Double, wall: Double) {
        var best = (cpu: Double.infinity, wall: Double.infinity)
        for _ in 0..<loops {
            let series = MethodSeries(method: "ping")
            let stop = Stop()
            let readerThread = Thread {
                while !stop.value {
                    _ = series.read()
                    usleep(1000)
                }
            }
            if reader { readerThread.start() }
            let started = DispatchTime.now().uptimeNanoseconds
            let cpuStarted = Self.threadCPUNanoseconds()
            var state: UInt64 = 1
            var value: UInt64 = 1_000
            for _ in 0..<iterations {
                series.begin()
                if clock {
                    let begin = DispatchTime.now().uptimeNanoseconds
                    series.end(nanoseconds: DispatchTime.now().uptimeNanoseconds &- begin &+ value, errorCode: nil)
                } else {
                    series.end(nanoseconds: value, errorCode: nil)
                }
                // The next latency, 1 µs to 50 ms, spread over the buckets (a linear congruential step).
                state = state &* 6364136223846793005 &+ 1442695040888963407
                value = 1_000 &+ (state >> 20) % 50_000_000
            }
            let cpu = Double(Self.threadCPUNanoseconds() - cpuStarted)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started)
            stop.value = true
            let (counted, _) = series.read()
            precondition(counted == iterations, "the recorder lost calls: \(counted)")
            best = (min(best.cpu, cpu / Double(iterations)), min(best.wall, elapsed / Double(iterations)))
        }
        return best
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

private final class Stop: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    var value: Bool {
        get { lock.withLock { stopped } }
        set { lock.withLock { stopped = newValue } }
    }
}
