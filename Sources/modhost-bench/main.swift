// modhost-bench: release-mode figures, each beside a baseline measured in the same run.
//
//     swift build -c release && .build/release/modhost-bench [channel|socket|swap|metrics|ffi|health|routing|token|node|session|task|latency|all] [--calls N] [--latency-calls N]
//                                                            [--baseline OTHER-MODHOST]
//
// channel: pipelined throughput of `echo.ping` (a no-op C plugin method) through the real binary
//          against Python JSON-lines echo processes (and another modhost build, with --baseline);
//          one-at-a-time latency; start to ready.
// socket:  pipelined throughput over the Unix socket with 1, 8 and 32 clients against the stdio
//          client of the same host; connect-call-disconnect round trips (modhost call, and an
//          in-process client).
// swap:    the pause callers see when a module holding 10,000 state entries is hot-swapped; call
//          latency with and without repeated swaps; a swap against a full restart that reloads
//          the same state.
// metrics: the cost of recording one call's metrics (ns, a tight loop over the recorder), and
//          pipelined echo.ping calls/s with metrics on against --no-metrics, and with a 50 % canary
//          against none, interleaved rounds.
// ffi:     per-call cost in-process of a typed export through libffi, of the same function
//          through the plugin's JSON handle path, and of a direct function-pointer call.
// health:  health.report and health.available with 10,000 provider keys, the memory they take,
//          and start-to-ready with 0, 10,000 and 50,000 stored keys (needs libHealth.so, built
//          by `swift build -c release`).
// routing: routing.select with a pool of 100 keys and 10,000 sessions, health on the path,
//          beside health.available alone (calls/s and p99; needs libHealth.so and libRouting.so).
// token:   token.access calls/s for a valid token; 1,000 tokens expiring in one minute refreshed
//          against a loopback endpoint: requests, their spread, RSS (needs libToken.so, python3).
// node:    node.assign round trips through 1 and 4 agents on the Unix socket (p50/p99) and
//          node.acquire/release pairs/s (needs libNode.so).
// latency: one call at a time through a C client over pipes (latency/client.c): modhost's
//          no-op echo.ping beside a Python JSON-lines echo and a bare C responder, rounds
//          interleaved; p50/p99/p99.9 and context switches per call; a call through an
//          inter-module hop (probe.call > echo.ping, routing.select > health); pipelined
//          throughput of all three (with --baseline, that modhost build beside this one).
// session: session.writeIo and writeIoBatch in MB/s and records/s beside a plain buffered file
//          write of the same bytes; session.context on 10,000 commands (needs libSession.so).
import Foundation
import ModHostTestKit

/// What every suite may need: the build, its `modhost`, the repository, the options.
struct BenchContext {
    let build: URL
    let modhost: URL
    let repository: URL
    let calls: Int
    let latencyCalls: Int
    let baseline: URL?

    /// The C example `echo.c`, built -O2 into a fresh directory.
    func echoLibrary(prefix: String, defines: [String] = []) throws -> String {
        let output = try TemporaryDirectory.make(prefix: prefix) + "/libecho.so"
        try PluginBuilder.buildC(source: repository.appendingPathComponent("plugin-sdk/examples/c-echo/echo.c").path, output: output,
                                 defines: defines, optimize: true)
        return output
    }

    /// Two echo builds that may run as a canary of each other (MH_FLAG_MULTI_INSTANCE): the
    /// first's directory, for --plugins, and the second's file.
    func multiInstanceEchos() throws -> (plugins: String, second: String) {
        let defines = ["-DECHO_FLAGS=(MH_FLAG_UNLOADABLE|MH_FLAG_MULTI_INSTANCE)"]
        let first = try echoLibrary(prefix: "modhost-bench-canary-plugins", defines: defines)
        return ((first as NSString).deletingLastPathComponent, try echoLibrary(prefix: "modhost-bench-canary-next", defines: defines))
    }
}

/// The suites, in the order they run; a new module's benchmark is one more line.
let table: [(name: String, run: (BenchContext) throws -> Void)] = [
    ("channel", { context in
        let echo = try context.echoLibrary(prefix: "modhost-bench-plugins")
        let plugins = (echo as NSString).deletingLastPathComponent
        let calc = context.build.appendingPathComponent("libCalc.so").path
        if FileManager.default.fileExists(atPath: calc) { try FileManager.default.copyItem(atPath: calc, toPath: "\(plugins)/libCalc.so") }
        try ChannelBench(calls: context.calls, latencyCalls: context.latencyCalls, plugins: plugins, modhost: context.modhost,
                         baseline: context.baseline).run()
    }),
    ("socket", { context in
        let echo = try context.echoLibrary(prefix: "modhost-bench-plugins")
        try SocketBench(calls: context.calls, plugins: (echo as NSString).deletingLastPathComponent, modhost: context.modhost).run()
    }),
    ("swap", { context in
        let kvSource = context.repository.appendingPathComponent("Tests/ModHostTests/Fixtures/kv.c").path
        try SwapBench(modhost: context.modhost, kvSource: kvSource, latencyCalls: context.latencyCalls).run()
    }),
    ("metrics", { context in
        // The recorder alone (MODHOST_BENCH_RECORDER_ONLY) needs no plugin, nor a child process (callgrind).
        let recorderOnly = ProcessInfo.processInfo.environment["MODHOST_BENCH_RECORDER_ONLY"] != nil
        let echo = recorderOnly ? "" : try context.echoLibrary(prefix: "modhost-bench-plugins")
        var bench = MetricsBench(calls: context.calls, plugins: (echo as NSString).deletingLastPathComponent, modhost: context.modhost)
        if !recorderOnly { bench.canaryEcho = try context.multiInstanceEchos() }
        try bench.run()
    }),
    ("ffi", { context in try FFIBench(echoLibrary: try context.echoLibrary(prefix: "modhost-bench-ffi")).run() }),
    ("health", { context in
        try HealthModuleBench(modhost: context.modhost, healthLibrary: context.build.appendingPathComponent("libHealth.so").path).run()
    }),
    ("routing", { context in try RoutingModuleBench(modhost: context.modhost, build: context.build, calls: context.latencyCalls).run() }),
    ("token", { context in
        try TokenModuleBench(modhost: context.modhost, tokenLibrary: context.build.appendingPathComponent("libToken.so").path).run()
    }),
    ("node", { context in
        try NodeModuleBench(modhost: context.modhost, nodeLibrary: context.build.appendingPathComponent("libNode.so").path,
                            calls: min(context.latencyCalls, 5_000)).run()
    }),
    ("session", { context in
        try SessionModuleBench(modhost: context.modhost, library: context.build.appendingPathComponent("libSession.so").path, records: 20_000).run()
    }),
    ("task", { context in try TaskModuleBench(modhost: context.modhost, library: context.build.appendingPathComponent("libTask.so").path).run() }),
    ("latency", { context in
        try LatencyBench(modhost: context.modhost, build: context.build, repository: context.repository,
                         echoLibrary: try context.echoLibrary(prefix: "modhost-bench-latency-plugins"), calls: context.latencyCalls,
                         baseline: context.baseline).run()
    }),
]

var calls = 400_000
var latencyCalls = 20_000
var chosen: [String] = []
var baseline: URL?
var arguments = CommandLine.arguments.dropFirst()
let names = table.map(\.name)
while let argument = arguments.popFirst() {
    switch argument {
    case "--calls": calls = Int(arguments.popFirst() ?? "") ?? calls
    case "--latency-calls": latencyCalls = Int(arguments.popFirst() ?? "") ?? latencyCalls
    case "--baseline": baseline = arguments.popFirst().map { URL(fileURLWithPath: $0) }
    case "all": chosen = names
    case _ where names.contains(argument): chosen.append(argument)
    default:
        let usage = "usage: modhost-bench [\((names + ["all"]).joined(separator: "|"))] [--calls N] [--latency-calls N] [--baseline MODHOST]\n"
        FileHandle.standardError.write(Data(usage.utf8))
        exit(2)
    }
}
if chosen.isEmpty { chosen = names }

do {
    let build = try HostProcess.buildDirectory()
    let context = BenchContext(
        build: build, modhost: build.appendingPathComponent("modhost"),
        repository: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent(),
        calls: calls, latencyCalls: latencyCalls, baseline: baseline)
    for (index, suite) in table.enumerated() where chosen.contains(suite.name) {
        if index > 0 && chosen.first != suite.name { print("") }
        try suite.run(context)
    }
} catch {
    FileHandle.standardError.write(Data("modhost-bench: \(error)\n".utf8))
    exit(1)
}
