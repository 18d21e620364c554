import Foundation
import ModHostTestKit

/// The task queue through the real binary: `task.submit` → `task.results` throughput with a
/// no-op target (`calc.update`, the example plugin: any params, result null), on the real
/// clock. Submits are pipelined in batches; a consumer reads the results as they land (long
/// polls of up to 1 s). Figures: submits/s, tasks/s from the first submit to the last result
/// read, and the host's CPU time (all threads) per task, for concurrency 3 (the default) and 16.
struct TaskQueueBench {
    let modhost: URL
    let taskLibrary: String
    let calcLibrary: String
    var tasks = 20_000

    func run() throws {
        print("Task queue: task.submit -> task.results with a no-op target (calc.update), \(tasks) tasks, real clock")
        for concurrency in [3, 16] { try measure(concurrency: concurrency) }
    }

    private func measure(concurrency: Int) throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-queue")
        try FileManager.default.copyItem(atPath: taskLibrary, toPath: "\(plugins)/libTask.so")
        try FileManager.default.copyItem(atPath: calcLibrary, toPath: "\(plugins)/libCalc.so")
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-queue-state")
        let config = "\(state)/config.json"
        // Without the default jobs: their runs (token-refresh's every minute fails here, token is
        // not loaded) would be results entries among the bench's.
        let noDefaults = #""defaultJobs":{"session-evict":{"enabled":false},"session-cleanup":{"enabled":false},"token-refresh":{"enabled":false}}"#
        try Data(#"{"task":{"concurrency":\#(concurrency),\#(noDefaults)}}"#.utf8).write(to: URL(fileURLWithPath: config))
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--config", config, "--log-level", "error"])
        defer { host.stop() }
        _ = host.call("task.results", #"{"consumer":"bench"}"#)
        let cpu0 = host.cpuSeconds() ?? 0
        let submit = #"{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"call":{"method":"calc.update","params":{"n":1}}}}"#
        let t0 = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        while sent < tasks {
            let batch = min(500, tasks - sent)
            for _ in 0..<batch { host.send(submit) }
            for _ in 0..<batch {
                let line = host.readLine()
                guard line.contains(#""taskId""#) else { fatalError("submit failed: \(line.prefix(300))") }
            }
            sent += batch
        }
        let submitted = DispatchTime.now().uptimeNanoseconds
        var read = 0
        while read < tasks {
            let line = host.call("task.results", #"{"consumer":"bench","limit":1000,"waitMs":1000}"#)
            guard line.contains(#""entries""#) else { fatalError("results failed: \(line.prefix(300))") }
            read += line.components(separatedBy: #""status":"succeeded""#).count - 1
            guard !line.contains(#""status":"failed""#) else { fatalError("a task failed: \(line.prefix(300))") }
        }
        let done = DispatchTime.now().uptimeNanoseconds
        let cpu = (host.cpuSeconds() ?? 0) - cpu0
        let submitSeconds = Double(submitted - t0) / 1e9
        let seconds = Double(done - t0) / 1e9
        print(String(format: "  concurrency %2d: %7.0f submits/s, %7.0f tasks/s submit to result read (%d in %.2f s), host CPU %.0f µs a task",
                     concurrency, Double(tasks) / submitSeconds, Double(tasks) / seconds, tasks, seconds, cpu * 1e6 / Double(tasks)))
    }
}
