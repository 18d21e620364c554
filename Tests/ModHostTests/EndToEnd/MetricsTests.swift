import Foundation
import ModHostTestKit
import Testing

/// Call metrics through the real binary: counts, errors by code, calls in flight and latency
/// per module, generation and method (`modules.metrics`), the Prometheus text of `host.metrics`
/// read by prometheus_client's own parser, `modhost call --raw`, and `--no-metrics`.
@Suite struct MetricsTests {
    /// A host serving the probe fixture (and its 2.0.0 build elsewhere, to swap to).
    private func probeHost(_ arguments: [String] = []) throws -> (host: HostProcess, v2: String) {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let v2 = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so")
        return (try HostProcess(plugins: plugins, extraArguments: arguments), v2)
    }

    /// The method entries of `generation` of the probe, by method name.
    private func methods(_ host: HostProcess, generation: Int = 1) throws -> [String: JSON] {
        let metrics = try host.call("modules.metrics", ["id": "probe"])
        let generations = metrics["modules"][0]["generations"].array ?? []
        let entry = try #require(generations.first { $0["generation"] == .int(Int64(generation)) }, "\(metrics)")
        return Dictionary(uniqueKeysWithValues: (entry["methods"].array ?? []).map { ($0["method"].string ?? "", $0) })
    }

    @Test func countsCallsErrorsByCodeAndCallsInFlight() throws {
        let (host, _) = try probeHost()
        for _ in 0..<3 { #expect(try host.call("probe.ping") == "pong") }
        for _ in 0..<2 { #expect(try host.expectFailure("probe.fail_with", ["code": 7])["code"] == -32000) }
        #expect(try host.expectFailure("probe.fail_with", ["code": -32602])["code"] == -32602)
        // Undeclared names: one series, whatever the names.
        for name in ["nosuch", "garbage1", "garbage2"] { #expect(try host.expectFailure("probe.\(name)")["code"] == -32601) }
        // A call that stays pending inside the module.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"pending","method":"probe.never"}"#)
        #expect(try Poll.until { try methods(host)["never"]?["inFlight"] == 1 })

        let counted = try methods(host)
        #expect(counted["ping"]?["calls"] == 3)
        #expect(counted["ping"]?["errors"] == [:])
        #expect(counted["ping"]?["inFlight"] == 0)
        #expect(counted["fail_with"]?["calls"] == 3)
        #expect(counted["fail_with"]?["errors"] == ["-32000": 2, "-32602": 1])
        #expect(counted["never"]?["calls"] == 0, "a call in flight is not answered yet")
        #expect(counted["_unknown"]?["calls"] == 3)
        #expect(counted["_unknown"]?["errors"] == ["-32601": 3])
        #expect(counted["_unknown"]?["p50Us"] == .null, "refused names are not timed")
        #expect(Set(counted.keys) == ["ping", "fail_with", "never", "_unknown"], "no series per garbage name: \(counted.keys)")
        let generation = try host.call("modules.metrics")["modules"][0]["generations"][0]
        #expect(generation["version"] == "1.0.0" && generation["current"] == true && generation["shadow"] == false)
    }

    @Test func latencyQuantilesFollowAMethodThatSleeps() throws {
        let (host, _) = try probeHost()
        for _ in 0..<19 { #expect(try host.call("probe.sleep", [10]) == 10) }
        #expect(try host.call("probe.sleep", [1000]) == 1000)
        let sleep = try #require(try methods(host)["sleep"])
        #expect(sleep["calls"] == 20)
        let p50 = try #require(sleep["p50Us"].int), p95 = try #require(sleep["p95Us"].int), p99 = try #require(sleep["p99Us"].int)
        // Bounds far from the figures: on a loaded machine a 10 ms sleep may take several times that.
        #expect((10_000..<1_000_000).contains(p50), "p50 \(p50) µs for 19 calls of 10 ms and one of 1 s")
        #expect((10_000..<1_000_000).contains(p95), "p95 \(p95) µs")
        #expect((1_000_000..<10_000_000).contains(p99), "p99 \(p99) µs: the 1 s call")
        #expect(try #require(sleep["maxUs"].int) >= 1_000_000)
    }

    @Test func eachGenerationCountsItsOwnCallsAcrossASwapAndARollback() throws {
        let (host, v2) = try probeHost()
        for _ in 0..<2 { try host.call("probe.ping") }
        let swapped = try host.call("modules.swap", ["id": "probe", "path": .string(v2)])
        #expect(swapped["generation"] == 2)
        for _ in 0..<3 { try host.call("probe.ping") }
        #expect(try methods(host, generation: 1)["ping"]?["calls"] == 2)
        #expect(try methods(host, generation: 2)["ping"]?["calls"] == 3)
        var generations = try host.call("modules.metrics", ["id": "probe"])["modules"][0]["generations"]
        #expect(generations[0]["current"] == false && generations[1]["current"] == true)
        #expect(generations[1]["version"] == "2.0.0")
        // Back to generation 1: it counts on where it left off.
        try host.call("modules.rollback", ["id": "probe"])
        try host.call("probe.ping")
        #expect(try methods(host, generation: 1)["ping"]?["calls"] == 3)
        #expect(try methods(host, generation: 2)["ping"]?["calls"] == 3)
        generations = try host.call("modules.metrics", ["id": "probe"])["modules"][0]["generations"]
        #expect(generations[0]["current"] == true && generations[1]["current"] == false)
    }

    @Test func badParamsAreRefusedNamingTheField() throws {
        let (host, _) = try probeHost()
        let unknown = try host.expectFailure("modules.metrics", ["id": "nosuch"])
        #expect(unknown["code"] == -32602)
        #expect(unknown["message"].string?.contains("\"id\": no module \"nosuch\" is loaded") == true, "\(unknown)")
        let format = try host.expectFailure("host.metrics", ["format": "xml"])
        #expect(format["code"] == -32602)
        #expect(format["message"].string?.contains("\"format\" must be \"prometheus\"") == true, "\(format)")
        #expect(try host.call("probe.ping") == "pong", "the host keeps serving")
    }

    /// The exposition text, read by prometheus_client's `text_string_to_metric_families`.
    @Test func thePrometheusTextParsesWithPrometheusClient() throws {
        try requirePrometheusClient()
        let (host, v2) = try probeHost()
        for _ in 0..<3 { try host.call("probe.ping") }
        for _ in 0..<2 { _ = try host.expectFailure("probe.fail_with", ["code": 7]) }
        _ = try host.expectFailure("probe.fail_with", ["code": -32602])
        _ = try host.expectFailure("probe.bogus")
        try host.call("modules.swap", ["id": "probe", "path": .string(v2)])
        try host.call("probe.sleep", [20])
        let answer = try host.call("host.metrics", ["format": "prometheus"])
        #expect(answer["enabled"] == true)
        let text = try #require(answer["text"].string)
        #expect(try host.call("host.metrics")["text"].string?.hasPrefix("# HELP modhost_calls_total") == true, "prometheus is the default")

        let families = try parsePrometheus(text)
        func samples(_ family: String, _ type: String) -> [JSON] {
            let found = families.first { $0["name"].string == family }
            #expect(found?["type"].string == type, "\(family): \(found?.text ?? "missing") in\n\(text)")
            return found?["samples"].array ?? []
        }
        func value(_ list: [JSON], name: String? = nil, _ labels: [String: String]) -> Double? {
            list.first { sample in
                (name == nil || sample["name"].string == name)
                    && labels.allSatisfy { sample["labels"][$0.key].string == $0.value }
            }?["value"].double
        }
        let calls = samples("modhost_calls", "counter")
        #expect(value(calls, ["module": "probe", "generation": "1", "method": "ping"]) == 3)
        #expect(value(calls, ["module": "probe", "generation": "1", "method": "fail_with"]) == 3)
        #expect(value(calls, ["module": "probe", "generation": "1", "method": "_unknown"]) == 1)
        #expect(value(calls, ["module": "probe", "generation": "2", "method": "sleep"]) == 1)
        let errors = samples("modhost_call_errors", "counter")
        #expect(value(errors, ["generation": "1", "method": "fail_with", "code": "-32000"]) == 2)
        #expect(value(errors, ["generation": "1", "method": "fail_with", "code": "-32602"]) == 1)
        #expect(value(errors, ["generation": "1", "method": "_unknown", "code": "-32601"]) == 1)
        let inFlight = samples("modhost_calls_in_flight", "gauge")
        #expect(value(inFlight, ["generation": "1", "method": "ping"]) == 0)
        let duration = samples("modhost_call_duration_seconds", "summary")
        let slept = try #require(value(duration, ["generation": "2", "method": "sleep", "quantile": "0.5"]))
        #expect(slept >= 0.02 && slept < 0.2, "a 20 ms sleep took \(slept) s")
        #expect(value(duration, name: "modhost_call_duration_seconds_count", ["generation": "2", "method": "sleep"]) == 1)
        #expect(try #require(value(duration, name: "modhost_call_duration_seconds_sum", ["generation": "2", "method": "sleep"])) >= 0.02)
        #expect(value(duration, ["generation": "1", "method": "_unknown", "quantile": "0.5"]) == nil, "untimed series have no summary")
    }

    @Test func callRawPrintsTheTextForATextfileCollector() throws {
        try requirePrometheusClient()
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let socket = try TemporaryDirectory.make(prefix: "modhost-sock") + "/host.sock"
        let host = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix:\(socket)"])
        try host.waitForStderr(containing: "ready:")
        try host.call("probe.ping")

        let raw = try modhostCall(["--socket", socket, "--raw", "host.metrics", #"{"format":"prometheus"}"#])
        #expect(raw.status == 0, "\(raw)")
        #expect(raw.out.hasPrefix("# HELP modhost_calls_total"), "\(raw.out)")
        #expect(raw.out.contains(#"modhost_calls_total{module="probe",generation="1",method="ping"} 1"#), "\(raw.out)")
        #expect(raw.out.hasSuffix("\n") && !raw.out.hasSuffix("\n\n"))
        // What a textfile collector reads: the file the shell redirect wrote parses.
        let file = try TemporaryDirectory.make(prefix: "modhost-prom") + "/modhost.prom"
        try raw.out.write(toFile: file, atomically: true, encoding: .utf8)
        let families = try parsePrometheus(try String(contentsOfFile: file, encoding: .utf8))
        #expect(families.contains { $0["name"] == "modhost_calls" })

        // Without --raw: the JSON object, quoted text and all.
        let json = try modhostCall(["--socket", socket, "host.metrics", #"{"format":"prometheus"}"#])
        #expect(try JSON(parsing: json.out)["text"].string == raw.out)
        // A string result prints as its text; anything else stays JSON.
        #expect(try modhostCall(["--socket", socket, "--raw", "probe.version"]).out == "1.0.0\n")
        #expect(try modhostCall(["--socket", socket, "--raw", "probe.seq", "[7]"]).out == "7\n")
        #expect(try modhostCall(["--socket", socket, "probe.version"]).out == "\"1.0.0\"\n")
    }

    @Test func withMetricsOffTheAnswersAreEmptyAndSaySo() throws {
        let (host, _) = try probeHost(["--no-metrics"])
        try host.call("probe.ping")
        let answer = try host.call("modules.metrics")
        #expect(answer["enabled"] == false)
        #expect(answer["modules"] == [])
        #expect(answer["message"].string?.contains("--no-metrics") == true, "\(answer)")
        #expect(try host.call("modules.metrics", ["id": "probe"])["modules"] == [])
        #expect(try host.expectFailure("modules.metrics", ["id": "nosuch"])["code"] == -32602)
        let text = try host.call("host.metrics", ["format": "prometheus"])
        #expect(text["enabled"] == false)
        #expect(text["text"].string?.hasPrefix("# modhost: metrics are off") == true, "\(text)")
        #expect(text["text"].string?.split(separator: "\n").count == 1)
        #expect(try host.shutdown() == 0)
    }

    // MARK: - Helpers

    /// Fails the test with what to install when python3 or prometheus_client is missing.
    private func requirePrometheusClient() throws {
        let check = try runPython(["-c", "import prometheus_client"], input: "")
        if check.status != 0 {
            Issue.record("this test parses the Prometheus text with prometheus_client: install it with `pip install prometheus_client` (.ci/run does); python3 said: \(check.err)")
            throw PrometheusClientMissing()
        }
    }
    private struct PrometheusClientMissing: Error {}

    /// The metric families prometheus_client's parser reads from `text`: name, type, samples
    /// (name, labels, value).
    private func parsePrometheus(_ text: String) throws -> [JSON] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(sys.stdin.read()):
                out.append({"name": family.name, "type": family.type,
                            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
            print(json.dumps(out))
            """
        let run = try runPython(["-c", script], input: text)
        guard run.status == 0 else {
            Issue.record("prometheus_client refused the text: \(run.err)\n\(text)")
            return []
        }
        return try JSON(parsing: run.out).array ?? []
    }

    private func runPython(_ arguments: [String], input: String) throws -> (status: Int32, out: String, err: String) {
        try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, input: input)
    }

    private func modhostCall(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try run(try HostProcess.locateExecutable(), ["call"] + arguments, input: "")
    }

    private func run(_ executable: URL, _ arguments: [String], input: String) throws -> (status: Int32, out: String, err: String) {
        let inputFile = try TemporaryDirectory.make(prefix: "modhost-input") + "/stdin"
        try input.write(toFile: inputFile, atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(executable.path, arguments, stdin: .file(inputFile))
        return (result.status, result.out, result.err)
    }
}
