import Foundation
import ModHostTestKit

/// The host with the node module on a manual clock, serving a Unix socket for agents.
struct NodeHost {
    let harness: ModuleHarness
    let path: String
    var host: HostProcess { harness.host }

    init(config: [String: JSON] = [:], state: String? = nil, extraArguments: [String] = []) throws {
        path = try TemporaryDirectory.make(prefix: "modhost-node") + "/host.sock"
        harness = try ModuleHarness(modules: ["libNode.so"], config: config.isEmpty ? [:] : ["node": .object(config)], state: state,
                                    extraArguments: ["--listen", "unix:\(path)"] + extraArguments)
        _ = try harness.host.waitForStderr(containing: "ready:")
    }

    /// Starts `Support/agent.py` and waits for its registration.
    func agent(_ nodeId: String, capabilities: String = "shell", maxTasks: Int = 1, mode: String = "echo") throws -> Agent {
        let script = try TemporaryDirectory.make(prefix: "modhost-agent") + "/agent.py"
        try Data(agentScript.utf8).write(to: URL(fileURLWithPath: script))
        let process = try PipedProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                       ["python3", script, path, nodeId, capabilities, String(maxTasks), mode])
        let agent = Agent(process: process)
        let first: String
        do { first = try process.readLine(timeout: 20, what: "agent \(nodeId)'s registration") } catch {
            throw HostProcessError("\(error)", stderr: host.stderrText)
        }
        guard first == "registered" else { throw HostProcessError("agent \(nodeId) did not register: \(first)", stderr: host.stderrText) }
        return agent
    }
}

/// A running agent process.
struct Agent {
    let process: PipedProcess

    /// The next assignment it printed: (taskId, attemptId). Throws when none comes within
    /// `timeout` seconds (a broken dispatch fails the test instead of hanging it).
    func nextAssignment(timeout: TimeInterval = 20) throws -> (taskId: String, attemptId: String) {
        let assignment = try nextAssignmentWithTime(timeout: timeout)
        return (assignment.taskId, assignment.attemptId)
    }

    /// The next assignment with the `timeoutMs` it gave the agent.
    func nextAssignmentWithTime(timeout: TimeInterval = 20) throws -> (taskId: String, attemptId: String, timeoutMs: Int64) {
        let line = try process.readLine(timeout: timeout, what: "an assignment")
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count == 4, parts[0] == "assigned", let ms = Int64(parts[3]) else {
            throw HostProcessError("the agent printed \"\(line)\", not an assignment")
        }
        return (parts[1], parts[2], ms)
    }

    func kill() {
        process.process.interrupt()
        Glibc.kill(process.process.processIdentifier, SIGKILL)
        process.process.waitUntilExit()
    }
}

/// The agent: a Python process on its own connection (the README's minimal agent, with modes).
let agentScript = #"""
#!/usr/bin/env python3
"""A node agent for the node module's end-to-end tests (and the README's example, grown).

usage: agent.py SOCKET NODE_ID CAPABILITIES MAX_TASKS MODE
MODE: echo (answers every task with success), silent (never answers), fail (answers failure).
Prints "registered" once registered and "assigned <taskId> <attemptId> <timeoutMs>" for every assignment.
"""
import json, socket, sys

path, node_id, caps, max_tasks, mode = sys.argv[1:6]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
stream = sock.makefile("rwb", buffering=0)
next_id = 0

def send(method, params):
    global next_id
    next_id += 1
    stream.write((json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}) + "\n").encode())

send("node.register", {"nodeId": node_id, "name": node_id, "type": "worker",
                       "capabilities": caps.split(","), "maxConcurrentTasks": int(max_tasks)})
for line in stream:
    message = json.loads(line)
    if message.get("id") == 1:
        print("registered", flush=True)
    if message.get("method") != "event" or message["params"]["topic"] != "node.task_assign":
        continue
    task = message["params"]["data"]
    print("assigned", task["taskId"], task["attemptId"], task["timeoutMs"], flush=True)
    if mode == "echo":
        send("node.taskResult", {"taskId": task["taskId"], "attemptId": task["attemptId"], "success": True,
                                 "result": {"node": node_id, "tool": task["toolName"], "args": task["toolArgs"]}})
    elif mode == "fail":
        send("node.taskResult", {"taskId": task["taskId"], "attemptId": task["attemptId"], "success": False,
                                 "error": {"message": "tool broke"}})
"""#
