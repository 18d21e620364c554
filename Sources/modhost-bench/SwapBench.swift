import Foundation
import ModHostTestKit

/// Hot swap of a module holding 10,000 state entries (the `kv` fixture), through the real binary.
struct SwapBench {
    static let entries = 10_000
    static let swaps = 100
    let modhost: URL
    let kvSource: String
    let latencyCalls: Int

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-swap")
        let other = try TemporaryDirectory.make(prefix: "modhost-bench-swap-b")
        try PluginBuilder.buildC(source: kvSource, output: "\(plugins)/libkv.so", optimize: true)
        try PluginBuilder.buildC(source: kvSource, output: "\(other)/libkv.so", optimize: true)
        let paths = ["\(other)/libkv.so", "\(plugins)/libkv.so"]
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-swap-state")
        let arguments = ["--plugins", plugins, "--state-dir", state, "--log-level", "error"]

        var host = try Child(modhost, arguments)
        _ = host.call("kv.fill", "[\(Self.entries)]")
        print("Hot swap of a module holding \(Self.entries) state entries (\(Self.swaps) swaps)")

        // 1. The pause: how long new calls were held (from each swap's result) and the swap's
        //    round trip as the caller of modules.swap sees it.
        var pauses: [Double] = []
        var roundTrips: [Double] = []
        for index in 0..<Self.swaps {
            let started = DispatchTime.now().uptimeNanoseconds
            let result = host.call("modules.swap", #"{"id":"kv","path":"\#(paths[index % 2])"}"#)
            roundTrips.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1000)
            guard let pause = Self.number(after: #""pauseMicros":"#, in: result) else { fatalError("swap failed: \(result)") }
            pauses.append(pause)
        }
        let stateBytes = Self.number(after: #""stateBytes":"#, in: host.call("modules.swap", #"{"id":"kv","path":"\#(paths[0])"}"#)) ?? 0
        pauses.sort()
        roundTrips.sort()
        print(String(format: "  calls held (pause)     p50 %7.0f µs   p99 %7.0f µs   max %7.0f µs   (target p99 < 5 ms; %.0f state bytes moved)",
                     Self.percentile(pauses, 0.5), Self.percentile(pauses, 0.99), pauses.last!, stateBytes))
        print(String(format: "  modules.swap round trip p50 %7.0f µs   p99 %7.0f µs", Self.percentile(roundTrips, 0.5), Self.percentile(roundTrips, 0.99)))

        // 2. Call latency, one call at a time, without and with swaps going on.
        let quiet = latencies(host, swapEvery: 0, paths: paths)
        let busy = latencies(host, swapEvery: max(1, latencyCalls / Self.swaps), paths: paths)
        print("  kv.get latency (µs)            p50      p99    p99.9      max")
        for (label, samples) in [("without swaps", quiet), ("during \(Self.swaps) swaps", busy)] {
            print("    " + label.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: " %8.1f %8.1f %8.1f %8.1f", Self.percentile(samples, 0.5), Self.percentile(samples, 0.99),
                         Self.percentile(samples, 0.999), samples.last!))
        }

        // 3. A swap against a full restart that reloads the same state from the store.
        var restarts: [Double] = []
        for _ in 0..<5 {
            let started = DispatchTime.now().uptimeNanoseconds
            host.stop()
            host = try Child(modhost, arguments)
            let count = host.call("kv.count", "[]")
            guard count.contains(#""result":\#(Self.entries)"#) else { fatalError("restart lost state: \(count)") }
            restarts.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1000)
        }
        host.stop()
        restarts.sort()
        let swap = Self.percentile(roundTrips, 0.5)
        let restart = Self.percentile(restarts, 0.5)
        print(String(format: "  restart and reload     median %9.0f µs   swap median %7.0f µs   restart / swap %6.0fx   (target >= 100x)",
                     restart, swap, restart / swap))
    }

    /// Sends a request and returns its response line (skipping other lines).

    /// Round trips of `kv.get` one at a time; every `swapEvery` calls a swap is sent without
    /// waiting for it, so calls meet swaps in progress.
    private func latencies(_ host: Child, swapEvery: Int, paths: [String]) -> [Double] {
        var samples: [Double] = []
        var swapsSent = 0
        var swapsAnswered = 0
        func isSwapAnswer(_ line: String) -> Bool { line.hasPrefix(#"{"jsonrpc":"2.0","id":"swap""#) }
        for index in 0..<latencyCalls {
            if swapEvery > 0 && index % swapEvery == 0 {
                host.send(#"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"kv","path":"\#(paths[swapsSent % 2])"}}"#)
                swapsSent += 1
            }
            let started = DispatchTime.now().uptimeNanoseconds
            host.send(#"{"jsonrpc":"2.0","id":\#(index),"method":"kv.get","params":[\#(index % Self.entries)]}"#)
            let expected = #"{"jsonrpc":"2.0","id":\#(index),"#
            while true {
                let line = host.readLine()
                if line.hasPrefix(expected) { break }
                if isSwapAnswer(line) {
                    guard line.contains(#""result""#) else { fatalError("swap failed: \(line)") }
                    swapsAnswered += 1
                }
            }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1000)
        }
        while swapsAnswered < swapsSent {
            if isSwapAnswer(host.readLine()) { swapsAnswered += 1 }
        }
        return samples.sorted()
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func number(after marker: String, in line: String) -> Double? {
        guard let range = line.range(of: marker) else { return nil }
        return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }
}
