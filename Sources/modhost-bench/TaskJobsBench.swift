import Foundation
import ModHostTestKit

/// The task module's jobs through the real binary: 10,000 registered jobs (daily and hourly
/// schedules, a third in Europe/Berlin), on a manual clock so none fires meanwhile. Figures:
/// registrations/s (pipelined, each stored), the host's resident memory growth, and the time
/// `task.list` takes for all of them (JSON included) and for one by name.
struct TaskJobsBench {
    let modhost: URL
    let library: String
    var jobs = 10_000

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-jobs")
        try FileManager.default.copyItem(atPath: library, toPath: "\(plugins)/libTask.so")
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-jobs-state")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error",
                                       "--manual-clock", "--clock-start", "1767225600000"])
        defer { host.stop() }
        print("Task jobs: \(jobs) registered jobs (manual clock: none fires)")
        _ = host.call("task.list", #"{"name":"token-refresh"}"#)
        let before = host.memory()?.resident ?? 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        while sent < jobs {
            let batch = min(500, jobs - sent)
            for i in sent..<(sent + batch) {
                let schedule = i % 4 == 0 ? "0 \(i % 60) * * * *" : "0 \(i % 60) \(i % 24) * * *"
                let zone = i % 3 == 0 ? #","timezone":"Europe/Berlin""# : ""
                host.send(#"{"jsonrpc":"2.0","id":\#(i),"method":"task.register","params":{"name":"job-\#(i)","schedule":"\#(schedule)"\#(zone),"call":{"method":"calc.update","params":{"n":\#(i)}}}}"#)
            }
            for _ in 0..<batch {
                let line = host.readLine()
                guard line.contains(#""nextRunAt""#) else { fatalError("register failed: \(line.prefix(300))") }
            }
            sent += batch
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let after = host.memory()?.resident ?? 0
        print(String(format: "  register: %7.0f jobs/s (%d in %.2f s); resident memory +%.1f MiB (%.0f bytes a job)",
                     Double(jobs) / seconds, jobs, seconds, Double(after - before) / 1_048_576, Double(after - before) / Double(jobs)))
        var all = Double.infinity, bytes = 0
        for _ in 0..<5 {
            let started = DispatchTime.now().uptimeNanoseconds
            let line = host.call("task.list", "{}")
            guard line.contains(#""job-9999""#) else { fatalError("list failed: \(line.prefix(300))") }
            all = min(all, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
            bytes = line.utf8.count
        }
        var one = Double.infinity
        for _ in 0..<200 {
            let started = DispatchTime.now().uptimeNanoseconds
            let line = host.call("task.list", #"{"name":"job-5000"}"#)
            guard line.contains(#""job-5000""#) else { fatalError("list failed: \(line.prefix(300))") }
            one = min(one, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
        }
        print(String(format: "  task.list: all %d jobs %.1f ms (%.1f MiB of JSON, best of 5); one by name %.3f ms (best of 200)",
                     jobs + 3, all, Double(bytes) / 1_048_576, one))
        let peak = host.memory()?.resident ?? 0
        print(String(format: "  resident memory after the lists: +%.1f MiB over the start", Double(peak - before) / 1_048_576))
    }
}
