import Foundation
import ModHostTestKit

/// The task module through the real binary: next-fire computations per second for a mix of
/// expressions (`task.preview`, 1,000 fire times a call, JSON included), in UTC and in
/// Europe/Berlin across a year of DST changes; then the jobs (TaskJobsBench) and the queue
/// (TaskQueueBench).
struct TaskModuleBench {
    static let expressions = ["*/5 * * * *", "0 30 2 * * *", "15,45 */3 * * 1-5", "0 0 1,15 * sun", "*/10 * * * * *", "@hourly", "0 9 * jan,jul mon"]
    let modhost: URL
    let library: String

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-task")
        try FileManager.default.copyItem(atPath: library, toPath: "\(plugins)/libTask.so")
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-task-state")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error"])
        defer { host.stop() }
        print("Task module: next-fire computations, task.preview with count 1000, \(Self.expressions.count) expressions")
        for zone in ["UTC", "Europe/Berlin"] {
            var runs = 0
            let t0 = DispatchTime.now().uptimeNanoseconds
            for round in 0..<20 {
                for expression in Self.expressions {
                    let from = 1_609_459_200_000 + Int64(round) * 86_400_000  // 2021, a day later each round
                    let line = host.call("task.preview", #"{"schedule":"\#(expression)","timezone":"\#(zone)","fromMs":\#(from),"count":1000}"#)
                    guard line.contains(#""result""#) else { fatalError("call failed: \(line.prefix(300))") }
                    runs += 1000  // none of these schedules ends
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let label = zone.padding(toLength: 14, withPad: " ", startingAt: 0)
            print("  \(label)" + String(format: "%9.0f next-fire computations/s (%d in %.2f s)", Double(runs) / seconds, runs, seconds))
        }
        host.stop()
        try TaskJobsBench(modhost: modhost, library: library).run()
        try TaskQueueBench(modhost: modhost, taskLibrary: library,
                           calcLibrary: URL(fileURLWithPath: library).deletingLastPathComponent().appendingPathComponent("libCalc.so").path).run()
    }

}
