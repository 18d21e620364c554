import Foundation

/// A strict pull reader for the small JSON objects the module stores, so a start-up with tens of
/// thousands of records does not spend its time in `JSONDecoder` (about 15 µs a record; this
/// reads one in about 1 µs).
///
/// It reads what `JSONEncoder` writes for the stored types: objects, strings (all escapes),
/// integers, booleans, `null`, and skips anything else that is valid JSON. Whatever it does not
/// expect (a fraction or an exponent where an integer belongs, a type mismatch, trailing bytes)
/// makes it throw, and the caller falls back to `JSONDecoder`, which then decides: so a record
/// reads the same either way, only faster.
struct JSONPull {
    struct Mismatch: Error {}

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Reads an object, calling `member` with each key (raw bytes between the quotes, escapes
    /// left as they are) while the reader stands at its value; `member` must read or `skip()` it.
    mutating func object(_ member: (inout JSONPull, UnsafeRawBufferPointer) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipSpaces()
        if take(UInt8(ascii: "}")) { return }
        repeat {
            skipSpaces()
            let key = try rawString()
            skipSpaces()
            try expect(UInt8(ascii: ":"))
            skipSpaces()
            try member(&self, key)
            skipSpaces()
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// After the top-level value: only white space may follow.
    mutating func end() throws {
        skipSpaces()
        guard index == bytes.count else { throw Mismatch() }
    }

    /// `null`, consumed; false (and nothing consumed) for anything else.
    mutating func null() -> Bool {
        guard bytes.count - index >= 4, bytes[index] == UInt8(ascii: "n") else { return false }
        index += 4
        return bytes[index - 3] == UInt8(ascii: "u") && bytes[index - 2] == UInt8(ascii: "l")
            && bytes[index - 1] == UInt8(ascii: "l")
    }

    mutating func bool() throws -> Bool {
        if matchWord("true") { return true }
        if matchWord("false") { return false }
        throw Mismatch()
    }

    /// An integer written without fraction or exponent.
    mutating func int64() throws -> Int64 {
        let negative = take(UInt8(ascii: "-"))
        var value: Int64 = 0
        var digits = 0
        while index < bytes.count, case let byte = bytes[index], byte >= 0x30, byte <= 0x39 {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 0x30) * (negative ? -1 : 1))
            guard !overflow, !overflow2 else { throw Mismatch() }
            value = sum
            digits += 1
            index += 1
        }
        guard digits > 0, index == bytes.count || !Self.numberContinues(bytes[index]) else { throw Mismatch() }
        return value
    }

    mutating func int() throws -> Int {
        guard let value = Int(exactly: try int64()) else { throw Mismatch() }
        return value
    }

    mutating func string() throws -> String {
        let raw = try rawString()
        guard raw.contains(UInt8(ascii: "\\")) else {
            guard let text = String(validating: raw, as: UTF8.self) else { throw Mismatch() }
            return text
        }
        return try Self.unescape(raw)
    }

    /// Skips one value of any kind.
    mutating func skip() throws {
        skipSpaces()
        guard index < bytes.count else { throw Mismatch() }
        switch bytes[index] {
        case UInt8(ascii: "{"): try object { reader, _ in try reader.skip() }
        case UInt8(ascii: "["):
            index += 1
            skipSpaces()
            if take(UInt8(ascii: "]")) { return }
            repeat { try skip(); skipSpaces() } while take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
        case UInt8(ascii: "\""): _ = try rawString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): guard null() else { throw Mismatch() }
        default:
            // A number: anything JSON allows in one, then checked by Double.
            let start = index
            while index < bytes.count, Self.numberContinues(bytes[index]) || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index > start, Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)) != nil
            else { throw Mismatch() }
        }
    }

    // MARK: - Bytes

    private static func numberContinues(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            || byte == UInt8(ascii: "+")
    }

    private mutating func skipSpaces() {
        while index < bytes.count, case let byte = bytes[index], byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            index += 1
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard take(byte) else { throw Mismatch() }
    }

    private mutating func matchWord(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// The bytes between a string's quotes, unvalidated escapes included; control characters
    /// are refused as JSON requires. (The hot loop of a start-up: a plain pointer scan.)
    private mutating func rawString() throws -> UnsafeRawBufferPointer {
        try expect(UInt8(ascii: "\""))
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw Mismatch() }
        let start = index
        var position = index
        let count = bytes.count
        while position < count {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                return UnsafeRawBufferPointer(start: base + start, count: position - start)
            }
            guard byte >= 0x20 else { throw Mismatch() }
            position += byte == UInt8(ascii: "\\") ? 2 : 1
        }
        throw Mismatch()
    }

    private static func unescape(_ raw: UnsafeRawBufferPointer) throws -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var i = 0
        func flush() throws {
            guard !utf8.isEmpty else { return }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Mismatch() }
            scalars.append(contentsOf: text.unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
        }
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= raw.count, let value = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: raw[at..<(at + 4)]), as: UTF8.self), radix: 16)
            else { throw Mismatch() }
            return value
        }
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { throw Mismatch() }
            let escaped = raw[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4(i)
                i += 4
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate must be followed by an escaped low one.
                    guard i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u") else { throw Mismatch() }
                    let low = try hex4(i + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw Mismatch() }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let scalar = Unicode.Scalar(code) else { throw Mismatch() }
                try flush()
                scalars.append(scalar)
            default:
                throw Mismatch()
            }
        }
        try flush()
        return String(scalars)
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly `literal` (an ASCII key).
    func equals(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.count == count else { return false }
        guard let base = baseAddress else { return count == 0 }
        return memcmp(base, literal.utf8Start, count) == 0
    }
}
