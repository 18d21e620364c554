import Foundation

/// What the test kit's two connections to a host share, `HostProcess` (stdio) and
/// `SocketClient` (a Unix socket): requests with responses matched by id, notifications, and
/// events set aside until asked for. A conformer reads its lines into a queue and provides
/// `waitForLine`; the rest is here.
public protocol RPCConnection: AnyObject {
    /// Writes one raw line (a newline is added).
    func send(raw line: String) throws
    /// A request id not used on this connection yet.
    func takeID() -> Int
    /// Waits for the first unread line `match` accepts (returns non-nil for) and removes it
    /// from the queue; lines it skips stay for later. Throws on timeout or when the host closed.
    func waitForLine<T>(timeout: TimeInterval, what: String, match: (String) -> T?) throws -> T
}

extension RPCConnection {
    /// Sends a request and returns the whole response object (`result` or `error`).
    @discardableResult
    public func request(_ method: String, _ params: JSON? = nil, timeout: TimeInterval = 20) throws -> JSON {
        let id = takeID()
        var members: [String: JSON] = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method)]
        if let params { members["params"] = params }
        try send(raw: JSON.object(members).text)
        return try response(id: .int(Int64(id)), timeout: timeout)
    }

    /// Sends a request and returns its `result`; a JSON-RPC error is thrown as `RPCFailure`.
    @discardableResult
    public func call(_ method: String, _ params: JSON? = nil, timeout: TimeInterval = 20) throws -> JSON {
        let response = try request(method, params, timeout: timeout)
        if response["error"] != .null {
            throw RPCFailure(
                code: Int(response["error"]["code"].int ?? 0), message: response["error"]["message"].string ?? "",
                data: response["error"]["data"])
        }
        return response["result"]
    }

    /// Sends a notification (no id, no response).
    public func notify(_ method: String, _ params: JSON? = nil) throws {
        var members: [String: JSON] = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { members["params"] = params }
        try send(raw: JSON.object(members).text)
    }

    /// Waits for the response whose id is `id` and removes it from the queue.
    public func response(id: JSON, timeout: TimeInterval = 20) throws -> JSON {
        try waitForLine(timeout: timeout, what: "the response to id \(id)") { line -> JSON? in
            guard let message = try? JSON(parsing: line), let members = message.object, message["id"] == id,
                members["result"] != nil || members["error"] != nil
            else { return nil }
            return message
        }
    }

    /// The next event notification (optionally of one topic), removed from the queue: its params.
    public func nextEvent(topic: String? = nil, timeout: TimeInterval = 20) throws -> JSON {
        try waitForLine(timeout: timeout, what: "an event \(topic ?? "")") { line -> JSON? in
            guard let message = try? JSON(parsing: line), message["method"] == "event" else { return nil }
            if let topic, message["params"]["topic"].string != topic { return nil }
            return message["params"]
        }
    }

    /// The next line, whatever it is, removed from the queue.
    public func nextLine(timeout: TimeInterval = 20) throws -> String {
        try waitForLine(timeout: timeout, what: "a line") { $0 }
    }
}
