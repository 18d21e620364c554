import Foundation
import ModHostTestKit

/// The routing module through the real binary, with health loaded: a pool of 100 keys and
/// 10,000 sessions (each with a disable set by instructions), then `routing.select` one call at
/// a time (its two `health.available` calls on the path) beside `health.available` for the
/// pool's 100 keys alone, in the same run: calls/s and p99 of each, the cost routing adds.
struct RoutingModuleBench {
    static let keys = 100
    static let sessions = 10_000
    let modhost: URL
    let build: URL
    let calls: Int

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-routing")
        for library in ["libHealth.so", "libRouting.so"] {
            try FileManager.default.copyItem(atPath: build.appendingPathComponent(library).path, toPath: "\(plugins)/\(library)")
        }
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-routing-state")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error",
                                       "--manual-clock", "--clock-start", "1767225600000"])
        defer { host.stop() }
        let targets = (0..<Self.keys).map { #"{"target":"openai.k\#($0).gpt"}"# }.joined(separator: ",")
        expect(host.call("routing.setPool", #"{"pool":"main","targets":[\#(targets)]}"#))
        for i in 0..<Self.sessions {
            host.send(#"{"jsonrpc":"2.0","id":"s\#(i)","method":"routing.applyInstructions","params":{"sessionId":"s\#(i)","text":"<**#openai.k\#(i % Self.keys)**> hi"}}"#)
        }
        for _ in 0..<Self.sessions { expect(host.readLine()) }
        let keys = "[" + (0..<Self.keys).map { #""openai.k\#($0)""# }.joined(separator: ",") + "]"
        let health = timed(host, count: calls) { _ in ("health.available", #"{"providerKeys":\#(keys),"peek":true}"#) }
        let select = timed(host, count: calls) { i in ("routing.select", #"{"sessionId":"s\#(i % Self.sessions)"}"#) }
        print("Routing module, a pool of \(Self.keys) keys, \(Self.sessions) sessions, with health, one call at a time (\(calls) calls)")
        print(String(format: "  health.available (%d keys, peek) alone  %8.0f calls/s  p99 %6.0f µs", Self.keys, health.rate, health.p99))
        print(String(format: "  routing.select (2 health calls inside) %8.0f calls/s  p99 %6.0f µs  (routing adds %.0f µs a call)",
                     select.rate, select.p99, 1e6 / select.rate - 1e6 / health.rate))
    }

    /// Calls/s and the p99 latency in µs of `count` calls, one at a time.
    private func timed(_ host: Child, count: Int, _ request: (Int) -> (String, String)) -> (rate: Double, p99: Double) {
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        let started = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let (method, params) = request(i)
            let t0 = DispatchTime.now().uptimeNanoseconds
            expect(host.call(method, params))
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        latencies.sort()
        return (Double(count) / seconds, latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }

    private func expect(_ line: String) {
        guard line.contains(#""result""#) else { fatalError("call failed: \(line.prefix(300))") }
    }

}
