// Reading a JSONValue from JSON text, and writing it back.

extension JSONValue {
    /// Parses exactly one JSON value (white space around it allowed) with `JSONScanner`, in
    /// time linear in the text.
    ///
    /// - Throws: `JSONScanner.Failure` naming the byte where the text stops being JSON, or the
    ///   nesting limit (`JSONScanner.maximumDepth`).
    public init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(JSONScanner.Failure) {
        var scanner = JSONScanner(bytes)
        self = try Self.read(&scanner)
        try scanner.expectEnd()
    }

    /// Parses JSON text (see `init(parsing:)` for bytes).
    public init(parsing text: String) throws(JSONScanner.Failure) {
        var text = text
        let parsed = text.withUTF8 { bytes in Result { () throws(JSONScanner.Failure) in try JSONValue(parsing: bytes) } }
        self = try parsed.get()
    }

    /// Parses JSON bytes (see `init(parsing:)` for a buffer).
    public init(parsing bytes: [UInt8]) throws(JSONScanner.Failure) {
        self = try bytes.withUnsafeBufferPointer { buffer throws(JSONScanner.Failure) in try JSONValue(parsing: buffer) }
    }

    /// Reads the value at the scanner's position (white space before it skipped).
    public static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> JSONValue {
        do {
            return try readAny(&scanner)
        } catch let failure as JSONScanner.Failure {
            throw failure
        } catch {
            preconditionFailure("the value reader throws only scanner failures: \(error)")
        }
    }

    /// The recursive reader: one frame per container, bounded by the scanner's depth limit.
    private static func readAny(_ scanner: inout JSONScanner) throws -> JSONValue {
        scanner.skipWhitespace()
        try scanner.expectMore()
        switch scanner.bytes[scanner.index] {
        case UInt8(ascii: "{"):
            var members: [String: JSONValue] = [:]
            try scanner.visitObject { scanner, key in
                let value = try readAny(&scanner)
                let name = scanner.string(key)
                if members[name] == nil { members[name] = value }
            }
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            try scanner.visitArray { scanner, _ in elements.append(try readAny(&scanner)) }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(scanner.string(try scanner.readString()))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return try scanner.readLiteral()
        default:
            let number = try scanner.readNumber()
            return JSONNumber.value(UnsafeBufferPointer(rebasing: scanner.bytes[number.text]), isInteger: number.isInteger)
        }
    }
}

// MARK: - Writing

extension JSONValue {
    /// Appends the value as compact JSON text: object keys sorted (so equal values write equal
    /// bytes), strings escaped as `JSONString.append` does, doubles in their shortest exact form.
    /// A non-finite double, which JSON cannot hold, is written as `null`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .uint(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value):
            out.append(contentsOf: (value.isFinite ? value.description : "null").utf8)
        case .string(let value): JSONString.append(value, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The compact JSON bytes (see `write(to:)`).
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    /// The compact JSON text, keys sorted: `{"a":[1,2.5,"x"],"b":null}`.
    public var text: String { String(decoding: jsonBytes, as: UTF8.self) }
}
