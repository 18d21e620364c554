import Foundation
import ModHostTestKit

/// One call at a time, as a new user's client sees it (issue 17): modhost with a no-op C plugin
/// beside a Python JSON-lines echo and a bare C responder, all driven in one run by a C client
/// over pipes (`latency/client.c`: a client in C adds little of its own to a round trip), rounds
/// interleaved so the machine's state falls on all three alike. p50/p99/p99.9 and the server's
/// context switches per call (from `/proc/PID/task/*/status`), a call through an inter-module
/// hop, and pipelined throughput. With `--baseline OTHER-MODHOST` that build runs beside this one.
struct LatencyBench {
    let modhost: URL
    let build: URL
    let repository: URL
    let echoLibrary: String
    let calls: Int
    var baseline: URL? = nil
    static let warmup = 200
    static let rounds = 5
    static let pipelined = 200_000
    /// Pipelined rounds, interleaved across the processes like the one-at-a-time rounds.
    static let pipelinedRounds = 5

    func run() throws {
        let work = try TemporaryDirectory.make(prefix: "modhost-bench-latency")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let plugins = (echoLibrary as NSString).deletingLastPathComponent
        try PluginBuilder.buildC(source: repository.appendingPathComponent("Tests/ModHostTests/Fixtures/probe.c").path,
                                 output: "\(plugins)/libprobe.so", optimize: true)
        var hasRouting = true
        for library in ["libHealth.so", "libRouting.so"] {
            let built = build.appendingPathComponent(library).path
            if FileManager.default.fileExists(atPath: built) {
                try FileManager.default.copyItem(atPath: built, toPath: "\(plugins)/\(library)")
            } else {
                hasRouting = false
            }
        }
        let sources = repository.appendingPathComponent("Sources/modhost-bench/latency").path
        try compile(["-O2", "\(sources)/responder.c", "-o", "\(work)/responder"])
        try compile(["-O2", "-pthread", "\(sources)/client.c", "-o", "\(work)/client"])
        try compile(["-O1", "\(sources)/spinner.c", "-o", "\(work)/spinner"])
        let python = """
            import json, sys
            for line in sys.stdin:
                request = json.loads(line)
                sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "pong"}) + "\\n")
                sys.stdout.flush()
            """
        try python.write(toFile: "\(work)/echo.py", atomically: true, encoding: .utf8)

        let ping = #"{"jsonrpc":"2.0","id":@,"method":"echo.ping"}"#
        let hop = #"{"jsonrpc":"2.0","id":@,"method":"probe.call","params":{"method":"echo.ping"}}"#
        let keys = #"["openai.k0","openai.k1"]"#
        var hosts = [("modhost", modhost.path)]
        if let baseline { hosts.append(("baseline", baseline.path)) }
        var plan: [[String]] = []
        for (name, binary) in hosts {
            let state = try TemporaryDirectory.make(prefix: "modhost-bench-latency-state")
            plan.append(["process", name, binary, "--plugins", plugins, "--state-dir", state, "--log-level", "error", "--no-watch"])
        }
        plan.append(["process", "python", "python3", "\(work)/echo.py"])
        plan.append(["process", "responder", "\(work)/responder"])
        for (name, _) in hosts where hasRouting {
            plan.append(["setup", name, #"{"jsonrpc":"2.0","id":0,"method":"routing.setPool","params":{"pool":"main","targets":[{"target":"openai.k0.gpt"},{"target":"openai.k1.gpt"}]}}"#])
        }
        for (name, _) in hosts { plan.append(["latency", "\(name) echo.ping", name, ping]) }
        plan.append(["latency", "python echo", "python", ping])
        plan.append(["latency", "C responder", "responder", ping])
        for (name, _) in hosts {
            plan.append(["latency", "\(name) probe.call>echo.ping", name, hop])
            if hasRouting {
                plan.append(["latency", "\(name) health.available", name,
                             #"{"jsonrpc":"2.0","id":@,"method":"health.available","params":{"providerKeys":\#(keys),"peek":true}}"#])
                plan.append(["latency", "\(name) routing.select", name,
                             #"{"jsonrpc":"2.0","id":@,"method":"routing.select","params":{"sessionId":"s1"}}"#])
            }
        }
        for (name, _) in hosts { plan.append(["pipeline", "\(name) echo.ping", name, ping]) }
        plan.append(["pipeline", "python echo", "python", ping])
        plan.append(["pipeline", "C responder", "responder", ping])
        try plan.map { $0.joined(separator: "\t") }.joined(separator: "\n").appending("\n")
            .write(toFile: "\(work)/plan", atomically: true, encoding: .utf8)
        // The second pass: one call at a time only, with every core kept awake.
        try plan.filter { $0.first != "pipeline" }.map { $0.joined(separator: "\t") }.joined(separator: "\n").appending("\n")
            .write(toFile: "\(work)/plan-awake", atomically: true, encoding: .utf8)

        let output = try runClient(["\(work)/client", "\(work)/plan", "\(calls)", "\(Self.warmup)", "\(Self.rounds)", "\(Self.pipelined)",
                                    "\(Self.pipelinedRounds)"])
        let (latency, pipeline) = Self.parse(output)
        print("One call at a time (C client over pipes; \(calls) calls each after \(Self.warmup) warm-up, \(Self.rounds) rounds interleaved)")
        oneAtATime(latency, hosts: hosts.map(\.0))

        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let spinners = try (0..<cores).map { _ in try ChildProcess("\(work)/spinner", [], stdin: .null, stdout: .null) }
        defer { for spinner in spinners { spinner.terminate(SIGKILL); _ = spinner.wait() } }
        let awake = Self.parse(try runClient(["\(work)/client", "\(work)/plan-awake", "\(calls)", "\(Self.warmup)", "\(Self.rounds)", "0", "0"])).latency
        for spinner in spinners { spinner.terminate(SIGKILL) }
        print("")
        print("The same with the cores kept awake (a SCHED_IDLE spinner on each of the \(cores) cores: it yields to any other")
        print("thread at once, but no core goes idle, so no wake-up pays for a halted virtual core)")
        oneAtATime(awake, hosts: hosts.map(\.0))

        print("")
        print("Pipelined (the same client, \(Self.pipelined) calls written by a thread while read back, \(Self.pipelinedRounds) rounds interleaved, best of each)")
        print("                                       calls/s   switches   CPU µs")
        print("                                                 per call  per call")
        for (label, key) in hosts.map({ ("\($0.0) echo.ping", "\($0.0) echo.ping") }) + [("python echo", "python echo"), ("C responder", "C responder")] {
            guard let f = pipeline[key] else { continue }
            print("  " + label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10.0f %10.3f %9.3f", f.rate, f.switches, f.cpu))
        }
        if let host = pipeline["modhost echo.ping"], let other = pipeline["baseline echo.ping"] {
            print(String(format: "  modhost / baseline: %.3fx the rate, %.3fx the CPU per call (target: rate >= 1)", host.rate / other.rate, host.cpu / other.cpu))
        }
    }

    typealias Latency = [String: (p50: Double, p99: Double, p999: Double, mean: Double, switches: Double)]
    typealias Pipeline = [String: (rate: Double, switches: Double, cpu: Double)]

    /// The client's output lines, by label.
    private static func parse(_ output: String) -> (latency: Latency, pipeline: Pipeline) {
        var latency: Latency = [:]
        var pipeline: Pipeline = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.first == "latency", fields.count == 7 {
                let n = fields[2...].map { Double($0) ?? .nan }
                latency[fields[1]] = (n[0], n[1], n[2], n[3], n[4])
            } else if fields.first == "pipeline", fields.count == 5 {
                pipeline[fields[1]] = (Double(fields[2]) ?? .nan, Double(fields[3]) ?? .nan, Double(fields[4]) ?? .nan)
            }
        }
        return (latency, pipeline)
    }

    /// The one-at-a-time tables: direct calls against the Python echo and the C responder, then
    /// the calls through hops.
    private func oneAtATime(_ latency: Latency, hosts: [String]) {
        func row(_ label: String, _ key: String) {
            guard let f = latency[key] else { return }
            print("  " + label.padding(toLength: 34, withPad: " ", startingAt: 0)
                  + String(format: "%8.1f %8.1f %8.1f %8.1f %10.2f", f.p50, f.p99, f.p999, f.mean, f.switches))
        }
        print("                                         p50      p99    p99.9     mean   switches")
        print("                                          µs       µs       µs       µs   per call")
        for name in hosts { row("\(name) echo.ping (no-op C)", "\(name) echo.ping") }
        row("python echo (json, flush per line)", "python echo")
        row("C responder (finds \"id\", canned)", "C responder")
        if let host = latency["modhost echo.ping"], let python = latency["python echo"], let c = latency["C responder"] {
            print(String(format: "  modhost p50 / python p50 %.2fx (target < 1), / C responder p50 %.2fx (target <= 2); "
                         + "p99 %.0f µs (target < 60 with cores awake); %.2f switches a call (target <= 1.5)",
                         host.p50 / python.p50, host.p50 / c.p50, host.p99, host.switches))
        }
        print("")
        print("Through an inter-module hop (the same client and rounds)")
        for name in hosts {
            row("\(name) probe.call > echo.ping", "\(name) probe.call>echo.ping")
            row("\(name) health.available (2 keys)", "\(name) health.available")
            row("\(name) routing.select (2 health calls)", "\(name) routing.select")
            if let direct = latency["\(name) echo.ping"], let relayed = latency["\(name) probe.call>echo.ping"] {
                print(String(format: "  %@: one hop adds %.1f µs at p50 (%.2f switches), the direct call costs %.1f µs (target: a hop adds at most one call's cost)",
                             name, relayed.p50 - direct.p50, relayed.switches - direct.switches, direct.p50))
            }
            if let health = latency["\(name) health.available"], let select = latency["\(name) routing.select"] {
                print(String(format: "  %@: routing.select adds %.1f µs at p50 over health.available alone (two hops to health and routing's work)",
                             name, select.p50 - health.p50))
            }
        }
    }

    private func compile(_ arguments: [String]) throws {
        let result = try ChildProcess.run("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror"] + arguments,
                                          stdin: .inherit, stdout: .inherit, stderr: .inherit)
        guard result.status == 0 else { throw HostProcessError("cc \(arguments.joined(separator: " ")) failed (\(result.termination))") }
    }

    private func runClient(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(arguments[0], Array(arguments.dropFirst()), stdin: .inherit, stderr: .inherit)
        guard result.status == 0 else { throw HostProcessError("the latency client failed (\(result.termination))") }
        return result.out
    }
}
