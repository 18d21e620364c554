import ModHostJSON

/// An error that crosses the control channel: it renders itself as a JSON-RPC error object.
///
/// Codes follow JSON-RPC 2.0 and the host's range (-32000...-32099) documented in the README.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    /// Raw JSON for the error's `data` member, if any.
    public var data: [UInt8]?

    public init(code: Int32, message: String, data: [UInt8]? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code): \(message)" }

    // JSON-RPC 2.0
    public static let parseErrorCode: Int32 = -32700
    public static let invalidRequestCode: Int32 = -32600
    public static let methodNotFoundCode: Int32 = -32601
    public static let invalidParamsCode: Int32 = -32602
    public static let internalErrorCode: Int32 = -32603
    // modhost
    public static let moduleErrorCode: Int32 = -32000
    public static let moduleUnavailableCode: Int32 = -32001
    public static let swapFailedCode: Int32 = -32002
    public static let loadFailedCode: Int32 = -32003
    public static let timedOutCode: Int32 = -32004
    public static let refusedCode: Int32 = -32005
    /// A connection over `--max-clients` (or made while the host shuts down), refused.
    public static let connectionRefusedCode: Int32 = -32006

    public static func invalidRequest(_ message: String) -> RPCError { RPCError(code: invalidRequestCode, message: message) }
    public static func methodNotFound(_ method: String, _ why: String? = nil) -> RPCError {
        RPCError(code: methodNotFoundCode, message: "Method not found: \(method)" + (why.map { " (\($0))" } ?? ""))
    }
    public static func invalidParams(_ message: String) -> RPCError {
        RPCError(code: invalidParamsCode, message: "Invalid params: \(message)")
    }
    public static func internalError(_ message: String) -> RPCError { RPCError(code: internalErrorCode, message: "Internal error: \(message)") }
    public static func moduleUnavailable(_ id: String, _ why: String) -> RPCError {
        RPCError(code: moduleUnavailableCode, message: "Module \(id) is unavailable: \(why)", data: JSONObject.module(id))
    }
    public static func swapFailed(_ id: String, _ reason: String) -> RPCError {
        var data = JSONObject()
        data.add("module", id)
        data.add("reason", reason)
        return RPCError(code: swapFailedCode, message: "Swap failed, \(id) unchanged: \(reason)", data: data.result)
    }
    public static func loadFailed(_ reason: String, file: String? = nil) -> RPCError {
        var data = JSONObject()
        data.add("reason", reason)
        if let file { data.add("file", file) }
        return RPCError(code: loadFailedCode, message: "Load failed: \(reason)", data: data.result)
    }

    /// The error object: `{"code":…,"message":…,"data":…}`.
    func appendJSON(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"code":"#.utf8)
        out.append(contentsOf: String(code).utf8)
        out.append(contentsOf: #","message":"#.utf8)
        JSONString.append(message, to: &out)
        if let data {
            out.append(contentsOf: #","data":"#.utf8)
            out.append(contentsOf: data)
        }
        out.append(UInt8(ascii: "}"))
    }

    var json: [UInt8] {
        var out: [UInt8] = []
        appendJSON(to: &out)
        return out
    }
}

/// The host's name for the toolkit's object writer (error data, events, results by hand).
typealias JSONObject = JSONObjectWriter

extension JSONObjectWriter {
    /// `{"module":"<id>"}`: the data of most errors about one module.
    static func module(_ id: String) -> [UInt8] {
        var object = JSONObjectWriter()
        object.add("module", id)
        return object.result
    }
}
