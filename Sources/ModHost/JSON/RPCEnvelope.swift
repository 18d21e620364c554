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
    case single(RPCEntry)
    /// A batch; empty batches are reported as `.single(.invalid)` per the specification.
    case batch([RPCEntry])
}

enum RPCEnvelope {
    /// Parses one line (without its newline) into requests, validating all of its JSON.
    static func parse(_ line: UnsafeBufferPointer<UInt8>) -> RPCLine {
        var scanner = JSONScanner(line)
        var i = 0
        scanner.skipWhitespace(&i)
        if i == line.count { return .blank }
        // One pass: every value is validated as it is read, and a request's members are recorded
        // on the way, so the line (params included) is scanned once.
        do throws(JSONScanner.Failure) {
            let parsed: RPCLine
            if line[i] == UInt8(ascii: "[") {
                parsed = try batch(&scanner, &i)
            } else {
                parsed = .single(try entry(&scanner, &i, depth: 0))
            }
            scanner.skipWhitespace(&i)
            guard i == line.count else {
                return .parseError("Parse error: unexpected data after the JSON value at byte \(i)")
            }
            return parsed
        } catch {
            return .parseError("Parse error: \(describe(error, in: line))")
        }
    }

    /// Reads a batch (the array at `i`); an empty one is a single invalid request.
    private static func batch(_ scanner: inout JSONScanner, _ i: inout Int) throws(JSONScanner.Failure) -> RPCLine {
        let line = scanner.bytes
        i += 1
        scanner.skipWhitespace(&i)
        if i < line.count, line[i] == UInt8(ascii: "]") {
            i += 1
            return .single(.invalid(id: nil, message: "Invalid Request: empty batch"))
        }
        var entries: [RPCEntry] = []
        while true {
            scanner.skipWhitespace(&i)
            entries.append(try entry(&scanner, &i, depth: 1))
            scanner.skipWhitespace(&i)
            try scanner.expectMore(i)
            if line[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try scanner.expect(UInt8(ascii: "]"), at: i)
            i += 1
            return .batch(entries)
        }
    }

    /// Reads one value at `i`, validating it; a request object's members are recorded as read.
    private static func entry(_ scanner: inout JSONScanner, _ i: inout Int, depth: Int) throws(JSONScanner.Failure) -> RPCEntry {
        let line = scanner.bytes
        try scanner.expectMore(i)
        guard line[i] == UInt8(ascii: "{") else {
            try scanner.skipValue(&i, depth: depth)
            return .invalid(id: nil, message: "Invalid Request: a request must be a JSON object")
        }
        var version: Range<Int>?
        var method: Range<Int>?
        var id: Range<Int>?
        var params: Range<Int>?
        i += 1
        scanner.skipWhitespace(&i)
        if i < line.count, line[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                scanner.skipWhitespace(&i)
                try scanner.expect(UInt8(ascii: "\""), at: i)
                let keyStart = i
                let keyEscaped = try scanner.skipString(&i)
                let key = keyStart + 1..<i - 1
                scanner.skipWhitespace(&i)
                try scanner.expect(UInt8(ascii: ":"), at: i)
                i += 1
                scanner.skipWhitespace(&i)
                let valueStart = i
                try scanner.skipValue(&i, depth: depth + 1)
                let value = valueStart..<i
                switch keyName(line, key, escaped: keyEscaped) {
                case "jsonrpc": version = value
                case "method": method = value
                case "id": id = value
                case "params": params = value
                default: break
                }
                scanner.skipWhitespace(&i)
                try scanner.expectMore(i)
                if line[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                try scanner.expect(UInt8(ascii: "}"), at: i)
                i += 1
                break
            }
        }
        var validID: Range<Int>?
        if let id {
            switch line[id.lowerBound] {
            case UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "n"):
                validID = id
            default:
                return .invalid(id: nil, message: "Invalid Request: id must be a string, a number or null")
            }
        }
        guard let version, stringValue(line, version) == "2.0" else {
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

    /// The member names we look for are plain ASCII; escaped keys are decoded first.
    private static func keyName(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, escaped: Bool) -> String? {
        if escaped { return JSONText.decodeString(UnsafeBufferPointer(rebasing: line[range])) }
        switch range.count {
        case 2, 6, 7: return String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
        default: return nil
        }
    }

    /// The decoded value of a JSON string, or nil when the value is not a string.
    private static func stringValue(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard line[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        return JSONText.decodeString(UnsafeBufferPointer(rebasing: line[range.lowerBound + 1..<range.upperBound - 1]))
    }

    private static func describe(_ error: JSONScanner.Failure, in line: UnsafeBufferPointer<UInt8>) -> String {
        switch error {
        case .unexpectedEnd: return "unexpected end of input"
        case .unexpectedByte(let byte, let at):
            let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(UnicodeScalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            return "unexpected \(shown) at byte \(at)"
        case .tooDeep: return "nesting deeper than \(JSONScanner.maximumDepth) levels"
        case .invalidUTF8(let at): return "invalid UTF-8 at byte \(at)"
        }
    }
}

/// The top-level members of a JSON object as raw text, for host methods that pass a member on
/// without re-encoding it (`events.publish`'s data, `modules.load`'s config).
enum JSONMembers {
    /// Members of `object` by (decoded) name, each value's raw bytes; nil if not an object.
    static func raw(_ object: [UInt8]) -> [String: [UInt8]]? {
        object.withUnsafeBufferPointer { line -> [String: [UInt8]]? in
            guard JSONScanner.isValid(line) else { return nil }
            var scanner = JSONScanner(line)
            var i = 0
            scanner.skipWhitespace(&i)
            guard line[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            var members: [String: [UInt8]] = [:]
            scanner.skipWhitespace(&i)
            if line[i] == UInt8(ascii: "}") { return members }
            while true {
                scanner.skipWhitespace(&i)
                let keyStart = i
                _ = try? scanner.skipString(&i)
                guard let key = JSONText.decodeString(UnsafeBufferPointer(rebasing: line[keyStart + 1..<i - 1])) else { return nil }
                scanner.skipWhitespace(&i)
                i += 1  // ':'
                scanner.skipWhitespace(&i)
                let valueStart = i
                try? scanner.skipValue(&i)
                members[key] = Array(line[valueStart..<i])
                scanner.skipWhitespace(&i)
                if line[i] == UInt8(ascii: ",") { i += 1 } else { return members }
            }
        }
    }
}
