import Foundation
import ModHostTestKit

/// The node module through the real binary: agents are socket clients of the host (one thread
/// each, as a real agent's process would be), the caller is stdio. `node.assign` one at a time
/// (assign → `node.task_assign` to an agent's connection → its `node.taskResult` → the held call
/// answered) through one and through four agents: round trips/s, p50 and p99; then
/// `node.acquire`/`node.release` pairs/s (each a store write) with the quota limits raised.
struct NodeModuleBench {
    let modhost: URL
    let nodeLibrary: String
    let calls: Int

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-node")
        try FileManager.default.copyItem(atPath: nodeLibrary, toPath: "\(plugins)/libNode.so")
        let directory = try TemporaryDirectory.make(prefix: "modhost-bench-node-run")
        let socket = "\(directory)/node.sock"
        let config = #"{"node":{"quotas":{"default":{"maxRequestsPerMinute":100000000,"maxTokensPerDay":100000000000}}}}"#
        try Data(config.utf8).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", "\(directory)/state", "--log-level", "error",
                                       "--listen", "unix:\(socket)", "--config", "\(directory)/config.json"])
        defer { host.stop() }
        _ = host.call("host.status", "{}")  // ready: the socket is bound before the plugins load

        print("Node module, node.assign one at a time through agents on the Unix socket (\(calls) calls each)")
        var agents: [Agent] = []
        for count in [1, 4] {
            while agents.count < count { agents.append(try Agent(socket: socket, id: "w\(agents.count + 1)")) }
            let (rate, p50, p99) = timed(host, count: calls) { _ in
                ("node.assign", #"{"capability":"shell","toolName":"echo","toolArgs":{"n":1},"timeoutMs":10000}"#)
            }
            print(String(format: "  %d agent%@  %8.0f round trips/s  p50 %6.0f µs  p99 %6.0f µs", count, count == 1 ? " " : "s", rate, p50, p99))
        }
        let pairs = max(1, calls / 4)
        let started = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<pairs {
            let permit = host.call("node.acquire", #"{"nodeId":"w1","kind":"request","estimatedTokens":10}"#)
            guard let range = permit.range(of: #""permitId":""#), let end = permit[range.upperBound...].firstIndex(of: "\"") else {
                fatalError("node.acquire failed: \(permit.prefix(300))")
            }
            _ = host.call("node.release", #"{"permitId":"\#(permit[range.upperBound..<end])","tokensUsed":10}"#)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        print(String(format: "  node.acquire + node.release  %8.0f pairs/s (%d pairs, each call a store write)", Double(pairs) / seconds, pairs))
        for agent in agents { agent.stop() }
    }

    /// An agent: registers, then answers every `node.task_assign` with a success result.
    final class Agent: @unchecked Sendable {
        let client: SocketClient
        private let done = DispatchSemaphore(value: 0)
        private let stopping = SharedFlag(false)

        init(socket: String, id: String) throws {
            client = try SocketClient(path: socket)
            _ = try client.call("node.register", ["nodeId": .string(id), "name": .string(id), "type": "worker", "capabilities": ["shell"]])
            Thread { [self] in
                while !stopping.load() {
                    guard let task = try? client.nextEvent(topic: "node.task_assign", timeout: 0.5)["data"] else { continue }
                    try? client.notify("node.taskResult", ["taskId": task["taskId"], "attemptId": task["attemptId"], "success": true, "result": task["toolArgs"]])
                }
                done.signal()
            }.start()
        }

        func stop() {
            stopping.store(true)
            done.wait()
            client.close()
        }
    }

    /// Round trips/s, p50 and p99 in µs of `count` calls, one at a time.
    private func timed(_ host: Child, count: Int, _ request: (Int) -> (String, String)) -> (Double, Double, Double) {
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        let started = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let (method, params) = request(i)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let line = host.call(method, params)
            guard line.contains(#""result""#) else { fatalError("\(method) failed: \(line.prefix(300))") }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        latencies.sort()
        return (Double(count) / seconds, latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }

}

/// A flag shared between threads.
final class SharedFlag<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func load() -> T { lock.withLock { value } }
    func store(_ new: T) { lock.withLock { value = new } }
}
