import Foundation
import ModHostJSON

/// `modhost call`: a one-shot client of a running host's socket, for shell scripts (like
/// `redis-cli`). It prints a call's result as JSON on stdout and exits 0; a JSON-RPC error goes
/// to stderr as the error object, exit 1; with `subscribe`, event notifications stream to stdout,
/// one `{"topic","data","ts"}` object per line, until the host closes the connection (exit 0)
/// or the user interrupts. Not reaching the host at all is exit 2.
public enum RemoteCall {
    public struct Request: Sendable {
        public var socket: String
        public var method: String?
        /// The params as JSON text (checked with `checkParams`).
        public var params: String?
        public var subscribe: [String]
        /// Print a string result (or the `text` member of an object result) as its text.
        public var raw: Bool

        public init(socket: String, method: String?, params: String?, subscribe: [String], raw: Bool = false) {
            self.socket = socket
            self.method = method
            self.params = params
            self.subscribe = subscribe
            self.raw = raw
        }
    }

    /// The params on one line, or a message saying why they are not JSON.
    public static func checkParams(_ text: String) -> Result<[UInt8], ConfigurationError> {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            if let failure = JSONScanner.failure(in: buffer) {
                return .failure(ConfigurationError("PARAMS_JSON is not valid JSON: \(failure)"))
            }
            return .success(JSONScanner.singleLine(buffer) ?? bytes)
        }
    }

    /// Runs the request; returns the exit status.
    public static func run(_ request: Request) -> Int32 {
        let socket: LineSocket
        switch SocketPath.connect(request.socket) {
        case .success(let fd): socket = LineSocket(fd: fd)
        case .failure(let error):
            fail("cannot connect to unix:\(request.socket): \(error); is a host listening there (modhost --listen unix:\(request.socket))? Pick the socket with --socket PATH or --server-id ID")
            return 2
        }
        var nextID = 0
        func call(_ method: String, params: [UInt8]?) -> Message? {
            nextID += 1
            let id = Array(String(nextID).utf8)
            var line = Array(#"{"jsonrpc":"2.0","id":"#.utf8) + id + Array(#","method":"#.utf8)
            JSONString.append(method, to: &line)
            if let params { line += Array(#","params":"#.utf8) + params }
            line.append(UInt8(ascii: "}"))
            guard socket.send(line) else { return nil }
            while let line = socket.readLine() {
                guard let message = Message(line) else { continue }
                if message.isEvent {
                    if !request.subscribe.isEmpty { emit(message.params, to: 1) }
                } else if message.id == id || (message.id == Array("null".utf8) && message.error != nil) {
                    return message
                }
            }
            return nil
        }

        if !request.subscribe.isEmpty {
            var topics = Array("[".utf8)
            for (index, topic) in request.subscribe.enumerated() {
                if index > 0 { topics.append(UInt8(ascii: ",")) }
                JSONString.append(topic, to: &topics)
            }
            topics += Array("]".utf8)
            guard let answer = call("events.subscribe", params: Array(#"{"topics":"#.utf8) + topics + [UInt8(ascii: "}")]) else {
                fail("the host closed the connection before answering")
                return 2
            }
            if let error = answer.error {
                emit(error, to: 2)
                return 1
            }
        }
        if let method = request.method {
            let params: [UInt8]?
            switch request.params.map(checkParams) {
            case .failure(let error)?:
                fail(error.description)
                return 64
            case .success(let bytes)?: params = bytes
            case nil: params = nil
            }
            guard let answer = call(method, params: params) else {
                fail("the host closed the connection before answering")
                return 2
            }
            if let error = answer.error {
                emit(error, to: 2)
                return 1
            }
            let result = answer.result ?? Array("null".utf8)
            if request.raw, let text = rawText(result) {
                writeAll(text, to: 1)
            } else {
                emit(result, to: 1)
            }
        }
        guard !request.subscribe.isEmpty else { return 0 }
        while let line = socket.readLine() {
            if let message = Message(line), message.isEvent { emit(message.params, to: 1) }
        }
        return 0
    }

    /// `--raw`: the text of a string result, or of the string member `text` of an object result
    /// (`host.metrics`), ending in a newline; nil for anything else (printed as JSON).
    static func rawText(_ result: [UInt8]) -> [UInt8]? {
        guard let value = try? JSONValue(parsing: result) else { return nil }
        guard let text = value.string ?? value["text"].string else { return nil }
        var bytes = Array(text.utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        return bytes
    }

    /// Writes one line to a descriptor (1 or 2) at once, unbuffered, so a stream of events
    /// reaches a pipe as each arrives.
    private static func emit(_ bytes: [UInt8]?, to fd: Int32) {
        var line = bytes ?? Array("null".utf8)
        line.append(UInt8(ascii: "\n"))
        writeAll(line, to: fd)
    }

    private static func writeAll(_ line: [UInt8], to fd: Int32) {
        line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                offset += n
            }
        }
    }

    private static func fail(_ message: String) {
        emit(Array("modhost call: \(message)".utf8), to: 2)
    }

    /// The members of a line from the host that matter here, as raw JSON.
    private struct Message {
        var id: [UInt8]?
        var method: String?
        var params: [UInt8]?
        var result: [UInt8]?
        var error: [UInt8]?

        var isEvent: Bool { method == "event" }

        init?(_ line: [UInt8]) {
            var found = Message.empty
            let parsed: Bool = line.withUnsafeBufferPointer { buffer in
                var scanner = JSONScanner(buffer)
                do {
                    try scanner.visitObject { scanner, key in
                        let name = scanner.string(key)
                        let range = try scanner.skipValueRange()
                        let value = Array(buffer[range])
                        switch name {
                        case "id": found.id = value
                        case "method": found.method = value.withUnsafeBufferPointer { JSONString.decode(UnsafeBufferPointer(rebasing: $0.dropFirst().dropLast())) }
                        case "params": found.params = value
                        case "result": found.result = value
                        case "error": found.error = value
                        default: break
                        }
                    }
                    return true
                } catch {
                    return false
                }
            }
            guard parsed else { return nil }
            self = found
        }

        private init() {}
        private static var empty: Message { Message() }
    }
}
