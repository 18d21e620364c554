extension JSONScanner {
    /// A string's contents (the bytes between its quotes, escapes as written), and whether it
    /// has escapes: without, the contents are the string's UTF-8 as they are.
    public struct StringToken: Sendable, Equatable {
        public let contents: Range<Int>
        public let hasEscapes: Bool

        @inlinable
        public init(contents: Range<Int>, hasEscapes: Bool) {
            self.contents = contents
            self.hasEscapes = hasEscapes
        }
    }

    /// Reads a string starting at its opening quote, validating its escapes and UTF-8.
    @inlinable
    public mutating func readString() throws(Failure) -> StringToken {
        try expect(UInt8(ascii: "\""))
        index += 1
        let start = index
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return StringToken(contents: start..<index - 1, hasEscapes: escaped)
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                try skipEscape()
            } else if byte < 0x20 {
                throw .unexpectedByte(byte, at: index)
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw .unexpectedEnd
    }

    /// Skips one escape (`\n`, `\u00e9`, …) at the backslash.
    @usableFromInline
    mutating func skipEscape() throws(Failure) {
        index += 1
        guard index < bytes.count else { throw .unexpectedEnd }
        switch bytes[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            index += 1
            for _ in 0..<4 {
                guard index < bytes.count else { throw .unexpectedEnd }
                guard JSONString.hexValue(bytes[index]) != nil else { throw .unexpectedByte(bytes[index], at: index) }
                index += 1
            }
        default:
            throw .unexpectedByte(bytes[index], at: index)
        }
    }

    /// Skips one multi-byte UTF-8 sequence at its lead byte: no overlongs, no surrogates, at
    /// most U+10FFFF.
    @usableFromInline
    mutating func skipUTF8Sequence() throws(Failure) {
        let start = index
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
        index = start + length
    }

    /// The decoded text of a string token (lone UTF-16 surrogates become U+FFFD).
    @inlinable
    public func string(_ token: StringToken) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[token.contents])
        guard token.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        // A token the scanner read has only valid escapes: this never fails.
        return JSONString.decode(raw) ?? String(decoding: raw, as: UTF8.self)
    }

    /// Whether a string token's text is exactly `literal`, compared without allocating when
    /// the token has no escapes.
    @inlinable
    public func string(_ token: StringToken, equals literal: StaticString) -> Bool {
        guard token.hasEscapes else {
            let count = literal.utf8CodeUnitCount
            guard token.contents.count == count else { return false }
            let start = literal.utf8Start
            var k = 0
            while k < count {
                guard bytes[token.contents.lowerBound + k] == start[k] else { return false }
                k += 1
            }
            return true
        }
        return string(token) == literal.description
    }
}
