/// A validating JSON scanner over UTF-8 bytes (RFC 8259) that never builds a tree.
///
/// It reads one token at a time and checks everything RFC 8259 demands: structure, literals,
/// number syntax, string escapes, UTF-8 (no overlongs, no surrogates, at most U+10FFFF), and at
/// most `maximumDepth` nested containers. Clients walk values with `visitObject` and
/// `visitArray` (see `JSONScanner+Visitors.swift`), take the raw bytes of what they pass on
/// (`skipValue` and two indices), and decode only what they need.
///
/// The host's envelope, typed-export arguments and config reading, the SDK's params, the test
/// kit's `JSON` and `JSONValue(parsing:)` all read JSON through this one scanner. Every step is
/// linear in the bytes it passes, so any input costs time linear in its length.
///
/// - Important: The buffer must stay valid while the scanner is used; the scanner never copies.
public struct JSONScanner {
    /// Why input is not (acceptable) JSON; offsets are bytes from the start of the buffer.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unexpectedEnd
        case unexpectedByte(UInt8, at: Int)
        /// More than `JSONScanner.maximumDepth` nested arrays and objects.
        case tooDeep(at: Int)
        case invalidUTF8(at: Int)

        /// `unexpected ',' at byte 12`, `nesting deeper than 512 levels (the limit) at byte 600`.
        public var description: String {
            switch self {
            case .unexpectedEnd: return "unexpected end of input"
            case .unexpectedByte(let byte, let at):
                let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
                return "unexpected \(shown) at byte \(at)"
            case .tooDeep(let at):
                return "nesting deeper than \(JSONScanner.maximumDepth) levels (the limit) at byte \(at)"
            case .invalidUTF8(let at): return "invalid UTF-8 at byte \(at)"
            }
        }
    }

    /// Where a failure is, as a byte offset into `bytes`: the end of the input for
    /// `unexpectedEnd`.
    public static func offset(of failure: Failure, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        switch failure {
        case .unexpectedEnd: bytes.count
        case .unexpectedByte(_, let at), .tooDeep(let at), .invalidUTF8(let at): min(at, bytes.count)
        }
    }

    /// The 1-based line and column of byte `offset` in `bytes`, as an editor shows them: lines
    /// end at `\n` (a `\r\n` counts once), columns count characters (UTF-8 sequences), not bytes.
    public static func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(max(0, offset)) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 && byte != 0x0D {
                column += 1  // a continuation byte belongs to the character before it
            }
        }
        return (line, column)
    }

    /// The deepest nesting of arrays and objects accepted, by host and SDK alike; deeper input
    /// is refused rather than risking the stack of whoever walks it recursively.
    public static let maximumDepth = 512

    /// The bytes scanned.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The position of the next byte to read.
    public var index: Int
    @usableFromInline var openContainers = 0
    @usableFromInline var lineBreakSeen = false

    /// A scanner at `index` of `bytes`.
    @inlinable
    public init(_ bytes: UnsafeBufferPointer<UInt8>, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    /// How many arrays and objects enclose the current position.
    @inlinable public var depth: Int { openContainers }
    /// True when a newline or carriage return was skipped outside strings (pretty-printed JSON).
    @inlinable public var sawLineBreak: Bool { lineBreakSeen }
    /// True when every byte has been read.
    @inlinable public var isAtEnd: Bool { index >= bytes.count }
    /// The byte at the current position, or nil at the end.
    @inlinable public var next: UInt8? { index < bytes.count ? bytes[index] : nil }

    // MARK: White space and single bytes

    @inlinable
    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): index += 1
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): lineBreakSeen = true; index += 1
            default: return
            }
        }
    }

    /// Throws unless the current byte is `byte` (it is not consumed).
    @inlinable
    public func expect(_ byte: UInt8) throws(Failure) {
        guard index < bytes.count else { throw .unexpectedEnd }
        guard bytes[index] == byte else { throw .unexpectedByte(bytes[index], at: index) }
    }

    /// Throws `unexpectedEnd` when every byte has been read.
    @inlinable
    public func expectMore() throws(Failure) {
        guard index < bytes.count else { throw .unexpectedEnd }
    }

    /// After the last value: throws unless only white space is left.
    @inlinable
    public mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard index == bytes.count else { throw .unexpectedByte(bytes[index], at: index) }
    }

    /// Counts an array or object being entered at the current position.
    @inlinable
    mutating func enterContainer() throws(Failure) {
        guard openContainers < Self.maximumDepth else { throw .tooDeep(at: index) }
        openContainers += 1
    }

    @inlinable
    mutating func leaveContainer() {
        openContainers -= 1
    }

    // MARK: Values

    /// Skips leading white space, then one complete value, validating it; `index` ends just
    /// past the value.
    @inlinable
    public mutating func skipValue() throws(Failure) {
        skipWhitespace()
        guard index < bytes.count else { throw .unexpectedEnd }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            try enterContainer()
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                leaveContainer()
                return
            }
            while true {
                skipWhitespace()
                try expect(UInt8(ascii: "\""))
                _ = try readString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                index += 1
                try skipValue()
                skipWhitespace()
                try expectMore()
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"))
                index += 1
                leaveContainer()
                return
            }
        case UInt8(ascii: "["):
            try enterContainer()
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                leaveContainer()
                return
            }
            while true {
                try skipValue()
                skipWhitespace()
                try expectMore()
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "]"))
                index += 1
                leaveContainer()
                return
            }
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            _ = try readLiteral()
        default:
            _ = try readNumber()
        }
    }

    /// Reads `true`, `false` or `null` at the current position: `.bool(…)` or `.null`.
    @inlinable
    public mutating func readLiteral() throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw .unexpectedEnd }
        switch bytes[index] {
        case UInt8(ascii: "t"): try skipWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try skipWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try skipWord("null"); return .null
        default: throw .unexpectedByte(bytes[index], at: index)
        }
    }

    @inlinable
    mutating func skipWord(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        let start = word.utf8Start
        for k in 0..<count {
            guard index + k < bytes.count else { throw .unexpectedEnd }
            guard bytes[index + k] == start[k] else { throw .unexpectedByte(bytes[index + k], at: index + k) }
        }
        index += count
    }

    /// A number's text, and whether it is written as an integer (no fraction, no exponent).
    public struct NumberToken: Sendable, Equatable {
        public let text: Range<Int>
        public let isInteger: Bool

        @inlinable
        public init(text: Range<Int>, isInteger: Bool) {
            self.text = text
            self.isInteger = isInteger
        }
    }

    /// Reads a number at the current position (RFC 8259 syntax: no `+`, no leading zeros, no
    /// bare `.`).
    @inlinable
    public mutating func readNumber() throws(Failure) -> NumberToken {
        let start = index
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw .unexpectedEnd }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            try skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            try skipDigits()
        }
        return NumberToken(text: start..<index, isInteger: isInteger)
    }

    /// One or more decimal digits.
    @inlinable
    mutating func skipDigits() throws(Failure) {
        guard index < bytes.count else { throw .unexpectedEnd }
        guard bytes[index] &- UInt8(ascii: "0") < 10 else { throw .unexpectedByte(bytes[index], at: index) }
        index += 1
        while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
    }
}
