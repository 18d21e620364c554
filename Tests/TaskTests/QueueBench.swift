import Foundation
import ModHostTestKit

/// The task module beside `target` (Fixtures/target.c, built once per test run), on a manual
/// clock: what the queue's end-to-end tests drive.
struct QueueBench {
    let harness: ModuleHarness
    var host: HostProcess { harness.host }

    static let start = ModuleHarness.defaultStart

    /// The C fixture, compiled once.
    static let target: Result<String, HostProcessError> = {
        do {
            let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
            let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("ModHostTests/Fixtures").path
            let output = "\(try TemporaryDirectory.make(prefix: "task-target"))/libtarget.so"
            try PluginBuilder.buildC(source: "\(fixtures)/target.c", output: output, defines: ["-I\(shared)"])
            return .success(output)
        } catch {
            return .failure(error as? HostProcessError ?? HostProcessError("\(error)"))
        }
    }()

    /// - Parameters:
    ///   - config: the `task` section.
    ///   - withTarget: load the `target` module beside it.
    ///   - defaultJobs: keep the default jobs (off: the queue's tests see no cron runs); a
    ///     `defaultJobs` key in `config` is used as it is.
    init(config: [String: JSON] = [:], withTarget: Bool = true, extraArguments: [String] = [], defaultJobs: Bool = false) throws {
        var config = config
        if !defaultJobs, config["defaultJobs"] == nil {
            config["defaultJobs"] = ["session-evict": ["enabled": false], "session-cleanup": ["enabled": false],
                                     "token-refresh": ["enabled": false]]
        }
        let plugins = try TemporaryDirectory.make(prefix: "task-plugins")
        try PluginBuilder.copyBuilt("libTask.so", into: plugins)
        if withTarget { try FileManager.default.copyItem(atPath: try Self.target.get(), toPath: "\(plugins)/libtarget.so") }
        harness = try ModuleHarness(plugins: plugins, config: ["task": .object(config)],
                                    extraArguments: extraArguments)
    }

    private init(harness: ModuleHarness) {
        self.harness = harness
    }

    func killAndRestart(at ms: Int64) throws -> QueueBench {
        QueueBench(harness: try harness.killAndRestart(clockStart: ms))
    }

    /// `task.submit` of a call to `method`; returns the answer.
    @discardableResult
    func submit(_ method: String, _ params: JSON = .null, _ options: [String: JSON] = [:]) throws -> JSON {
        var request = options
        request["call"] = params == .null ? ["method": .string(method)] : ["method": .string(method), "params": params]
        return try host.call("task.submit", .object(request))
    }

    func task(_ id: JSON) throws -> JSON {
        try host.call("task.get", ["taskId": id])
    }

    /// Waits until task `id` has `status` (its attempt ends on the host's threads).
    func waitFor(_ id: JSON, _ status: String, attempts: Int? = nil) throws -> JSON {
        var last = JSON.null
        let reached = try Poll.until {
            last = try task(id)
            return last["status"].string == status && (attempts.map { last["attempts"] == .int(Int64($0)) } ?? true)
        }
        guard reached else { throw HostProcessError("task \(id) never reached \(status): \(last)", stderr: host.stderrText) }
        return last
    }

    /// How many calls of `key` reached the target.
    func calls(_ key: String) throws -> Int64 {
        try host.call("target.calls", ["key": .string(key)]).int ?? -1
    }

    /// Waits until the target holds `count` calls.
    func waitForHeld(_ count: Int64) throws {
        guard try Poll.until({ try host.call("target.held") == .int(count) }) else {
            throw HostProcessError("the target never held \(count) calls (holds \(try host.call("target.held")))", stderr: host.stderrText)
        }
    }

    @discardableResult
    func advance(by ms: Int64) throws -> Int64 { try harness.advance(by: ms) }
}
