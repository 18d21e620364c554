/// A validating JSON scanner over UTF-8 bytes (RFC 8259) that never builds a tree.
///
/// The control channel uses it to check that a line is well-formed JSON and to find the raw byte
/// ranges of a request's members, so `params` can be handed to a plugin without re-encoding.
/// It is also used to check the JSON a plugin returns.
struct JSONScanner {
    enum Failure: Error, Equatable {
        case unexpectedEnd
        case unexpectedByte(UInt8, at: Int)
        case tooDeep
        case invalidUTF8(at: Int)
    }

    /// The deepest nesting accepted; deeper input is refused rather than risking the stack.
    static let maximumDepth = 512

    let bytes: UnsafeBufferPointer<UInt8>
    /// True when a newline or carriage return was seen outside strings (pretty-printed JSON).
    private(set) var sawLineBreak = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// What `check` found.
    enum Verdict {
        case invalid
        /// One valid JSON value, fit for one protocol line.
        case singleLine
        /// One valid JSON value with line breaks outside strings: compact it before sending.
        case multiline
    }

    /// Checks, in one pass, that `bytes` holds exactly one JSON value (optionally surrounded by
    /// white space), and whether it spans lines.
    static func check(_ bytes: UnsafeBufferPointer<UInt8>) -> Verdict {
        var scanner = JSONScanner(bytes)
        var i = 0
        do {
            try scanner.skipValue(&i)
            scanner.skipWhitespace(&i)
            guard i == bytes.count else { return .invalid }
            return scanner.sawLineBreak ? .multiline : .singleLine
        } catch {
            return .invalid
        }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if case .invalid = check(bytes) { return false }
        return true
    }

    @inline(__always)
    mutating func skipWhitespace(_ i: inout Int) {
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): i += 1
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): sawLineBreak = true; i += 1
            default: return
            }
        }
    }

    /// Skips leading white space, then one complete value; `i` ends just past the value.
    mutating func skipValue(_ i: inout Int, depth: Int = 0) throws(Failure) {
        skipWhitespace(&i)
        guard i < bytes.count else { throw .unexpectedEnd }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw .tooDeep }
            i += 1
            skipWhitespace(&i)
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
            while true {
                skipWhitespace(&i)
                try expect(UInt8(ascii: "\""), at: i)
                _ = try skipString(&i)
                skipWhitespace(&i)
                try expect(UInt8(ascii: ":"), at: i)
                i += 1
                try skipValue(&i, depth: depth + 1)
                skipWhitespace(&i)
                guard i < bytes.count else { throw .unexpectedEnd }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"), at: i)
                i += 1
                return
            }
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw .tooDeep }
            i += 1
            skipWhitespace(&i)
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
            while true {
                try skipValue(&i, depth: depth + 1)
                skipWhitespace(&i)
                guard i < bytes.count else { throw .unexpectedEnd }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "]"), at: i)
                i += 1
                return
            }
        case UInt8(ascii: "\""):
            _ = try skipString(&i)
        case UInt8(ascii: "t"): try skipLiteral("true", &i)
        case UInt8(ascii: "f"): try skipLiteral("false", &i)
        case UInt8(ascii: "n"): try skipLiteral("null", &i)
        default:
            try skipNumber(&i)
        }
    }

    @inline(__always)
    func expect(_ byte: UInt8, at i: Int) throws(Failure) {
        guard i < bytes.count else { throw .unexpectedEnd }
        guard bytes[i] == byte else { throw .unexpectedByte(bytes[i], at: i) }
    }

    /// Throws `unexpectedEnd` when `i` is past the input.
    @inline(__always)
    func expectMore(_ i: Int) throws(Failure) {
        guard i < bytes.count else { throw .unexpectedEnd }
    }

    private func skipLiteral(_ literal: StaticString, _ i: inout Int) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for k in 0..<count {
            guard i + k < bytes.count else { throw .unexpectedEnd }
            guard bytes[i + k] == start[k] else { throw .unexpectedByte(bytes[i + k], at: i + k) }
        }
        i += count
    }

    private func skipNumber(_ i: inout Int) throws(Failure) {
        func digits(_ i: inout Int) throws(Failure) {
            guard i < bytes.count else { throw .unexpectedEnd }
            guard bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else {
                throw .unexpectedByte(bytes[i], at: i)
            }
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw .unexpectedEnd }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            try digits(&i)
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            try digits(&i)
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            try digits(&i)
        }
    }

    /// Skips a string starting at its opening quote. Returns true when it contains escapes.
    @discardableResult
    mutating func skipString(_ i: inout Int) throws(Failure) -> Bool {
        i += 1  // opening quote
        var escaped = false
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                i += 1
                return escaped
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                i += 1
                guard i < bytes.count else { throw .unexpectedEnd }
                switch bytes[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    i += 1
                    for _ in 0..<4 {
                        guard i < bytes.count else { throw .unexpectedEnd }
                        guard Self.hexValue(bytes[i]) != nil else { throw .unexpectedByte(bytes[i], at: i) }
                        i += 1
                    }
                default:
                    throw .unexpectedByte(bytes[i], at: i)
                }
            } else if byte < 0x20 {
                throw .unexpectedByte(byte, at: i)
            } else if byte < 0x80 {
                i += 1
            } else {
                i = try skipUTF8Sequence(at: i)
            }
        }
        throw .unexpectedEnd
    }

    /// Validates one multi-byte UTF-8 sequence (no overlongs, no surrogates, at most U+10FFFF).
    private func skipUTF8Sequence(at start: Int) throws(Failure) -> Int {
        let lead = bytes[start]
        let length: Int
        var lowest: UInt8 = 0x80
        var highest: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; highest = 0x9F
        case 0xF0: length = 4; lowest = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; highest = 0x8F
        default: throw .invalidUTF8(at: start)
        }
        guard start + length <= bytes.count else { throw .invalidUTF8(at: start) }
        let second = bytes[start + 1]
        guard second >= lowest, second <= highest else { throw .invalidUTF8(at: start) }
        for k in 2..<max(2, length) where bytes[start + k] & 0xC0 != 0x80 {
            throw .invalidUTF8(at: start)
        }
        return start + length
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
