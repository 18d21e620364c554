import Foundation

/// What tests of the host and of modules ask of it often: a call that must fail, a call and the
/// event it publishes, the modules' states, waiting for a call or a swap to be under way.
/// Every wait has a timeout, and a broken expectation throws (`HostProcessError`, with the tail
/// of the host's stderr), so this kit needs no test framework.
extension HostProcess {
    /// Sends a request that must fail and returns its error object (`code`, `message`, `data`).
    /// - Throws: when it succeeds instead.
    @discardableResult
    public func expectFailure(_ method: String, _ params: JSON? = nil) throws -> JSON {
        let response = try request(method, params)
        guard response["error"] != .null else {
            throw HostProcessError("\(method) \(params?.text ?? "") should fail, got \(response.text)", stderr: stderrText)
        }
        return response["error"]
    }

    /// Sends a request that publishes an event the channel is subscribed to and returns the event
    /// (of `topic`) and the request's result (an error answer is thrown).
    public func callPublishing(_ topic: String, _ method: String, _ params: JSON) throws -> (event: JSON, result: JSON) {
        let id = JSON.int(Int64(takeID()))
        try send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": .string(method), "params": params]).text)
        let event = try nextEvent(topic: topic)
        let response = try response(id: id)
        guard response["error"] == .null else { throw HostProcessError("\(method) failed: \(response["error"])", stderr: stderrText) }
        return (event, response["result"])
    }

    /// The modules `host.status` lists, as id → state.
    public func moduleStates() throws -> [String: String] {
        let modules = try call("host.status")["modules"].array ?? []
        return Dictionary(modules.map { ($0["id"].string ?? "?", $0["state"].string ?? "?") }, uniquingKeysWith: { first, _ in first })
    }

    /// Waits until a call of `module` is inside the plugin (on a busy machine, a call sent a
    /// moment ago may still be queued).
    public func waitUntilRunning(_ module: String, timeout: TimeInterval = 20) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while try call("modules.describe", ["id": .string(module)])["openCalls"] == 0 {
            guard Date() < deadline else { throw HostProcessError("no call of \(module) started", stderr: stderrText) }
            usleep(2_000)
        }
    }

    /// Waits until a swap (or rollback, shadow, promote) of `module` holds new calls.
    public func waitUntilHolding(_ module: String) throws {
        try waitForStderr(containing: "\(module): holding new calls")
    }

    /// The index of the first stderr line ending with `suffix` (log lines end with the message).
    public func stderrLineIndex(endingWith suffix: String) -> Int? {
        stderrText.split(separator: "\n").firstIndex { $0.hasSuffix(suffix) }
    }
}
