import Foundation
import ModHostTestKit
import Testing

/// Checks the end-to-end suites share: what a user of the control channel sees.
extension HostProcess {
    /// Sends a request that must fail and returns its error object (`code`, `message`, `data`).
    @discardableResult
    func expectFailure(_ method: String, _ params: JSON? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
        let response = try request(method, params)
        try #require(response["error"] != .null, "\(method) \(params?.text ?? "") should fail, got \(response.text)", sourceLocation: sourceLocation)
        return response["error"]
    }

    /// Sends a request that publishes an event the channel is subscribed to and returns the event
    /// (of `topic`) and the request's result (an error answer is thrown).
    func callPublishing(_ topic: String, _ method: String, _ params: JSON) throws -> (event: JSON, result: JSON) {
        let id = JSON.int(Int64(takeID()))
        try send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": .string(method), "params": params]).text)
        let event = try nextEvent(topic: topic)
        let response = try response(id: id)
        guard response["error"] == .null else { throw HostProcessError("\(method) failed: \(response["error"])", stderr: stderrText) }
        return (event, response["result"])
    }

    /// The modules `host.status` lists, as id → state.
    func moduleStates() throws -> [String: String] {
        let modules = try call("host.status")["modules"].array ?? []
        return Dictionary(modules.map { ($0["id"].string ?? "?", $0["state"].string ?? "?") }, uniquingKeysWith: { first, _ in first })
    }

    /// Waits until a call of `module` is inside the plugin (on a busy machine, a call sent a
    /// moment ago may still be queued).
    func waitUntilRunning(_ module: String, timeout: TimeInterval = 20) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while try call("modules.describe", ["id": .string(module)])["openCalls"] == 0 {
            guard Date() < deadline else { throw HostProcessError("no call of \(module) started", stderr: stderrText) }
            usleep(2_000)
        }
    }

    /// Waits until a swap (or rollback, shadow, promote) of `module` holds new calls.
    func waitUntilHolding(_ module: String) throws {
        try waitForStderr(containing: "\(module): holding new calls")
    }

    /// The index of the first stderr line ending with `suffix` (log lines end with the message).
    func stderrLineIndex(endingWith suffix: String) -> Int? {
        stderrText.split(separator: "\n").firstIndex { $0.hasSuffix(suffix) }
    }
}
