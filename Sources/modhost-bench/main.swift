// modhost-bench: release-mode figures, each beside a baseline measured in the same run.
//
//     swift build -c release && .build/release/modhost-bench [channel|swap|ffi|health|all] [--calls N] [--latency-calls N]
//                                                            [--baseline OTHER-MODHOST]
//
// channel: pipelined throughput of `echo.ping` (a no-op C plugin method) through the real binary
//          against Python JSON-lines echo processes (and another modhost build, with --baseline);
//          one-at-a-time latency; start to ready.
// swap:    the pause callers see when a module holding 10,000 state entries is hot-swapped; call
//          latency with and without repeated swaps; a swap against a full restart that reloads
//          the same state.
// ffi:     per-call cost in-process of a typed export through libffi, of the same function
//          through the plugin's JSON handle path, and of a direct function-pointer call.
// health:  health.report and health.available with 10,000 provider keys, the memory they take,
//          and start-to-ready with 0, 10,000 and 50,000 stored keys (needs libHealth.so, built
//          by `swift build -c release`).
import Foundation
import ModHostTestKit

var calls = 400_000
var latencyCalls = 20_000
var suites: Set<String> = []
var baseline: URL?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--calls": calls = Int(arguments.popFirst() ?? "") ?? calls
    case "--latency-calls": latencyCalls = Int(arguments.popFirst() ?? "") ?? latencyCalls
    case "--baseline": baseline = arguments.popFirst().map { URL(fileURLWithPath: $0) }
    case "channel", "swap", "ffi", "health": suites.insert(argument)
    case "all": suites.formUnion(["channel", "swap", "ffi", "health"])
    default:
        FileHandle.standardError.write(Data("usage: modhost-bench [channel|swap|ffi|health|all] [--calls N] [--latency-calls N] [--baseline MODHOST]\n".utf8))
        exit(2)
    }
}
if suites.isEmpty { suites = ["channel", "swap", "ffi", "health"] }

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
do {
    let build = try HostProcess.buildDirectory()
    let modhost = build.appendingPathComponent("modhost")
    if suites.contains("channel") {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-plugins")
        try PluginBuilder.buildC(
            source: repository.appendingPathComponent("plugin-sdk/examples/c-echo/echo.c").path, output: "\(plugins)/libecho.so", optimize: true)
        let calc = build.appendingPathComponent("libCalc.so").path
        if FileManager.default.fileExists(atPath: calc) {
            try FileManager.default.copyItem(atPath: calc, toPath: "\(plugins)/libCalc.so")
        }
        try ChannelBench(calls: calls, latencyCalls: latencyCalls, plugins: plugins, modhost: modhost, baseline: baseline).run()
    }
    if suites.contains("swap") {
        if suites.contains("channel") { print("") }
        let kvSource = repository.appendingPathComponent("Tests/ModHostTests/Fixtures/kv.c").path
        try SwapBench(modhost: modhost, kvSource: kvSource, latencyCalls: latencyCalls).run()
    }
    if suites.contains("ffi") {
        if suites.count > 1 { print("") }
        let echo = try TemporaryDirectory.make(prefix: "modhost-bench-ffi") + "/libecho.so"
        try PluginBuilder.buildC(source: repository.appendingPathComponent("plugin-sdk/examples/c-echo/echo.c").path, output: echo, optimize: true)
        try FFIBench(echoLibrary: echo).run()
    }
    if suites.contains("health") {
        if suites.count > 1 { print("") }
        try HealthModuleBench(modhost: modhost, healthLibrary: build.appendingPathComponent("libHealth.so").path).run()
    }
} catch {
    FileHandle.standardError.write(Data("modhost-bench: \(error)\n".utf8))
    exit(1)
}
