import ModHostJSON

/// One JSON-RPC request found on a line: raw byte ranges into that line, nothing decoded but the
/// method name.
struct RPCRequest {
    /// The raw `id` value; `nil` for a notification.
    var id: Range<Int>?
    var method: String
    /// The raw `params` value (an array or object); `nil` when absent.
    var params: Range<Int>?
}

/// One element of a line: a request, or an invalid request object to answer with `-32600`.
enum RPCEntry {
    case request(RPCRequest)
    /// `id` is kept when it was itself valid, so the client can correlate the error.
    case invalid(id: Range<Int>?, message: String)
}

/// What a control-channel line holds, per JSON-RPC 2.0 section 6 (batches).
enum RPCLine {
    case blank
    case parseError(String)
    /// Valid JSON the host does not read: nested deeper than `JSONScanner.maximumDepth`.
    case tooDeep(String)
    case single(RPCEntry)
    /// A batch; empty batches are reported as `.single(.invalid)` per the specification.
    case batch([RPCEntry])
}

enum RPCEnvelope {
    /// Parses one line (without its newline) into requests, validating all of its JSON.
    ///
    /// One pass: every value is validated as it is read (`JSONScanner`), and a request's
    /// members are recorded on the way, so the line (params included) is scanned once.
    static func parse(_ line: UnsafeBufferPointer<UInt8>) -> RPCLine {
        var scanner = JSONScanner(line)
        scanner.skipWhitespace()
        guard let first = scanner.next else { return .blank }
        do {
            let parsed: RPCLine = first == UInt8(ascii: "[") ? try batch(&scanner) : .single(try entry(&scanner))
            scanner.skipWhitespace()
            guard scanner.isAtEnd else {
                return .parseError("Parse error: unexpected data after the JSON value at byte \(scanner.index)")
            }
            return parsed
        } catch let failure as JSONScanner.Failure {
            if case .tooDeep = failure { return .tooDeep("Invalid Request: \(failure)") }
            return .parseError("Parse error: \(failure)")
        } catch {
            return .parseError("Parse error: \(error)")
        }
    }

    /// Reads a batch (the array at the scanner); an empty one is a single invalid request.
    private static func batch(_ scanner: inout JSONScanner) throws -> RPCLine {
        var entries: [RPCEntry] = []
        try scanner.visitArray { scanner, _ in entries.append(try entry(&scanner)) }
        guard !entries.isEmpty else { return .single(.invalid(id: nil, message: "Invalid Request: empty batch")) }
        return .batch(entries)
    }

    /// Reads one value, validating it; a request object's members are recorded as read.
    private static func entry(_ scanner: inout JSONScanner) throws -> RPCEntry {
        guard scanner.next == UInt8(ascii: "{") else {
            try scanner.skipValue()
            return .invalid(id: nil, message: "Invalid Request: a request must be a JSON object")
        }
        var version: Range<Int>?
        var method: Range<Int>?
        var id: Range<Int>?
        var params: Range<Int>?
        try scanner.visitObject { scanner, key in
            let value = try scanner.skipValueRange()
            // The last of duplicate members wins.
            switch member(scanner, key) {
            case .jsonrpc: version = value
            case .method: method = value
            case .id: id = value
            case .params: params = value
            case nil: break
            }
        }
        let line = scanner.bytes
        var validID: Range<Int>?
        if let id {
            switch line[id.lowerBound] {
            case UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "n"):
                validID = id
            default:
                return .invalid(id: nil, message: "Invalid Request: id must be a string, a number or null")
            }
        }
        guard let version, isVersion2(line, version) else {
            return .invalid(id: validID, message: "Invalid Request: \"jsonrpc\" must be exactly \"2.0\"")
        }
        guard let method, let name = stringValue(line, method) else {
            return .invalid(id: validID, message: "Invalid Request: \"method\" must be a string")
        }
        if let params, line[params.lowerBound] != UInt8(ascii: "["), line[params.lowerBound] != UInt8(ascii: "{") {
            return .invalid(id: validID, message: "Invalid Request: \"params\" must be an array or an object")
        }
        return .request(RPCRequest(id: validID, method: name, params: params))
    }

    private enum Member { case jsonrpc, method, id, params }

    /// The envelope member a key names, by its length first: plain keys are compared as bytes.
    @inline(__always)
    private static func member(_ scanner: JSONScanner, _ key: JSONScanner.StringToken) -> Member? {
        switch key.hasEscapes ? -1 : key.contents.count {
        case 2: return scanner.string(key, equals: "id") ? .id : nil
        case 6: return scanner.string(key, equals: "method") ? .method : scanner.string(key, equals: "params") ? .params : nil
        case 7: return scanner.string(key, equals: "jsonrpc") ? .jsonrpc : nil
        case -1:
            switch scanner.string(key) {
            case "jsonrpc": return .jsonrpc
            case "method": return .method
            case "id": return .id
            case "params": return .params
            default: return nil
            }
        default: return nil
        }
    }

    /// Whether a (valid) value is the string "2.0", compared as bytes when written plainly.
    private static func isVersion2(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        if range.count == 5, line[range.lowerBound] == UInt8(ascii: "\""), line[range.lowerBound + 1] == UInt8(ascii: "2"),
            line[range.lowerBound + 2] == UInt8(ascii: "."), line[range.lowerBound + 3] == UInt8(ascii: "0")
        {
            return true
        }
        return stringValue(line, range) == "2.0"
    }

    /// The decoded value of a (valid) JSON string, or nil when the value is not a string.
    private static func stringValue(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard line[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        return JSONString.decode(UnsafeBufferPointer(rebasing: line[range.lowerBound + 1..<range.upperBound - 1]))
    }
}
