import Foundation
import ModHostTestKit

/// The health module with 10,000 provider keys, through the real binary: `health.report`
/// throughput (keys going into cooldown, and reports that change nothing), `health.available`
/// over all 10,000 keys (all usable against all out), and the host's memory for them. Then
/// start-to-ready with 0, 10,000 and 50,000 stored keys (`startToReady`).
struct HealthModuleBench {
    static let keys = 10_000
    let modhost: URL
    let healthLibrary: String

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-health")
        try FileManager.default.copyItem(atPath: healthLibrary, toPath: "\(plugins)/libHealth.so")
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-health-state")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error",
                                       "--manual-clock", "--clock-start", "1767225600000"])
        defer { host.stop() }
        _ = host.call("host.status", "{}")
        let rssBefore = Self.residentKiB(host.process.processIdentifier)
        let allKeys = "[" + (0..<Self.keys).map { #""openai.k\#($0)""# }.joined(separator: ",") + "]"

        let healthy = timedAvailable(host, allKeys, repeats: 20)
        let cooling = pipelined(host, count: Self.keys) { i in
            #"{"providerKey":"openai.k\#(i)","status":429,"retryAfter":"600"}"#
        }
        let unchanged = pipelined(host, count: 4 * Self.keys) { i in
            // A shorter hint never shortens a cooldown: these change nothing, write nothing.
            #"{"providerKey":"openai.k\#(i % Self.keys)","status":429,"retryAfter":"60"}"#
        }
        let out = timedAvailable(host, allKeys, repeats: 20)
        let rssAfter = Self.residentKiB(host.process.processIdentifier)

        print("Health module, \(Self.keys) provider keys, through the real binary")
        print(String(format: "  health.report, key into cooldown (stored)   %9.0f reports/s", cooling))
        print(String(format: "  health.report, no change (extend-only)      %9.0f reports/s", unchanged))
        print(String(format: "  health.available over %d keys, all usable  %7.1f ms/call  (%.0f calls/s)", Self.keys, healthy, 1000 / healthy))
        print(String(format: "  health.available over %d keys, all out     %7.1f ms/call  (%.0f calls/s)", Self.keys, out, 1000 / out))
        print(String(format: "  host memory (RSS) for %d keys in cooldown  %7.1f MiB more (%.1f MiB in all)",
                     Self.keys, Double(rssAfter - rssBefore) / 1024, Double(rssAfter) / 1024))
        try startToReady(plugins: plugins)
    }

    static let clockStart: Int64 = 1_767_225_600_000

    /// Start to ready (spawn to the first `health.status` answer, which comes once every module
    /// started) with 0, 10,000 and 50,000 keys in the store, each filled once through the real
    /// binary (pipelined reports, 24 h cooldowns), median of `runs` starts on the same clock;
    /// then the 50,000 again a day later, when every record is stale and must be deleted (a
    /// fresh copy of the store for each start).
    private func startToReady(plugins: String, runs: Int = 7) throws {
        print("Start to ready with stored health keys (spawn to the first health.status answer, median of \(runs))")
        var stateFor50k = ""
        for count in [0, 10_000, 50_000] {
            let state = try TemporaryDirectory.make(prefix: "modhost-bench-health-start")
            if count > 0 {
                let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error",
                                               "--manual-clock", "--clock-start", String(Self.clockStart)])
                _ = pipelined(host, count: count) { i in #"{"providerKey":"openai.k\#(i)","status":429,"retryAfter":86400}"# }
                host.stop()
            }
            let times = try (0..<runs).map { _ in try timedStart(plugins: plugins, state: state, clock: Self.clockStart) }
            print(String(format: "  %6d keys, all restored     median %7.1f ms, max %7.1f ms%@", count, median(times), times.max() ?? 0,
                         count == 50_000 ? "   (target under 500 ms)" : ""))
            if count == 50_000 { stateFor50k = state } else { try? FileManager.default.removeItem(atPath: state) }
        }
        var stale: [Double] = []
        for _ in 0..<runs {
            let copy = try TemporaryDirectory.make(prefix: "modhost-bench-health-stale")
            for file in try FileManager.default.contentsOfDirectory(atPath: stateFor50k) where file.hasPrefix("default.sqlite") {
                try FileManager.default.copyItem(atPath: "\(stateFor50k)/\(file)", toPath: "\(copy)/\(file)")
            }
            stale.append(try timedStart(plugins: plugins, state: copy, clock: Self.clockStart + 2 * 86_400_000))
            try? FileManager.default.removeItem(atPath: copy)
        }
        print(String(format: "   50000 keys, all stale (deleted after ready) median %7.1f ms, max %7.1f ms", median(stale), stale.max() ?? 0))
        try? FileManager.default.removeItem(atPath: stateFor50k)
    }

    /// Milliseconds from spawning the host to its first `health.status` answer.
    private func timedStart(plugins: String, state: String, clock: Int64) throws -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error",
                                       "--manual-clock", "--clock-start", String(clock)])
        let answer = host.call("health.status", #"{"providerKey":"openai.k0"}"#)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        guard answer.contains(#""result""#) else { fatalError("health.status failed: \(answer.prefix(300))") }
        host.stop()
        return elapsed
    }

    private func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }

    /// Reports per second for `count` pipelined `health.report` calls.
    private func pipelined(_ host: Child, count: Int, params: (Int) -> String) -> Double {
        var payload: [UInt8] = []
        for i in 0..<count {
            payload.append(contentsOf: (#"{"jsonrpc":"2.0","id":\#(i),"method":"health.report","params":\#(params(i))}"# + "\n").utf8)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let bytes = payload
        let writer = Thread { host.write(bytes) }
        writer.start()
        for _ in 0..<count {
            let line = host.readLine()
            guard line.contains(#""result""#) else { fatalError("report failed: \(line)") }
        }
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// Milliseconds per `health.available` call over `keys`, one call at a time (best of `repeats`).
    private func timedAvailable(_ host: Child, _ keys: String, repeats: Int) -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let started = DispatchTime.now().uptimeNanoseconds
            let answer = host.call("health.available", #"{"providerKeys":\#(keys)}"#)
            guard answer.contains(#""available""#) else { fatalError("available failed: \(answer.prefix(300))") }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
        }
        return best
    }


    /// VmRSS of a process, in KiB.
    static func residentKiB(_ pid: Int32) -> Int {
        (ProcFS.memory(of: pid)?.resident ?? 0) / 1024
    }
}
