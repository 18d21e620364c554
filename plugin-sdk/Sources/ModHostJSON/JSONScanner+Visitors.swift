/// Member and element visitors: walking one object or array while the caller decides, value by
/// value, what to read and what to skip.
///
///     var scanner = JSONScanner(bytes)
///     try scanner.visitObject { scanner, key in
///         if scanner.string(key, equals: "id") { id = try scanner.readString() }
///         else { try scanner.skipValue() }
///     }
///     try scanner.expectEnd()
///
/// A visitor is called standing at the first byte of a member's value (white space skipped) and
/// must consume exactly that value: `skipValue()`, a `read…` call, or a nested visit. What it
/// throws ends the walk and is rethrown as it is; the scanner's own refusals are
/// `JSONScanner.Failure`s. The depth limit counts nested visits too.
extension JSONScanner {
    /// Reads the object at the current position (after white space), calling `member` with each
    /// key, in order, while the scanner stands at that member's value.
    @inlinable
    public mutating func visitObject(_ member: (inout JSONScanner, StringToken) throws -> Void) throws {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
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
            let key = try readString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            index += 1
            skipWhitespace()
            try expectMore()
            try member(&self, key)
            skipWhitespace()
            try expectMore()
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            index += 1
            leaveContainer()
            return
        }
    }

    /// Reads the array at the current position (after white space), calling `element` with
    /// each element's position (0, 1, …) while the scanner stands at that element.
    @inlinable
    public mutating func visitArray(_ element: (inout JSONScanner, Int) throws -> Void) throws {
        skipWhitespace()
        try expect(UInt8(ascii: "["))
        try enterContainer()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            leaveContainer()
            return
        }
        var position = 0
        while true {
            skipWhitespace()
            try expectMore()
            try element(&self, position)
            position += 1
            skipWhitespace()
            try expectMore()
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            index += 1
            leaveContainer()
            return
        }
    }

    /// Skips one value and returns its byte range (white space before it excluded).
    @inlinable
    public mutating func skipValueRange() throws(Failure) -> Range<Int> {
        skipWhitespace()
        let start = index
        try skipValue()
        return start..<index
    }
}

// MARK: - Whole texts

extension JSONScanner {
    /// What `check` found.
    public enum Verdict: Sendable, Equatable {
        case invalid
        /// One valid JSON value, fit for one protocol line.
        case singleLine
        /// One valid JSON value with line breaks outside strings: compact it before sending.
        case multiline
    }

    /// Checks, in one pass, that `bytes` holds exactly one JSON value (optionally surrounded by
    /// white space), and whether it spans lines.
    @inlinable
    public static func check(_ bytes: UnsafeBufferPointer<UInt8>) -> Verdict {
        var scanner = JSONScanner(bytes)
        do {
            try scanner.skipValue()
            try scanner.expectEnd()
            return scanner.sawLineBreak ? .multiline : .singleLine
        } catch {
            return .invalid
        }
    }

    /// Why `bytes` is not exactly one JSON value; nil when it is.
    public static func failure(in bytes: UnsafeBufferPointer<UInt8>) -> Failure? {
        var scanner = JSONScanner(bytes)
        do {
            try scanner.skipValue()
            try scanner.expectEnd()
            return nil
        } catch {
            return error
        }
    }

    @inlinable
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        check(bytes) != .invalid
    }

    /// Returns `json` (valid JSON) with white space outside strings removed, so it fits on one
    /// line. Only needed when `check` saw a line break.
    public static func compacted(_ json: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: " "), 0x09, 0x0A, 0x0D: continue
                case UInt8(ascii: "\""): inString = true; out.append(byte)
                default: out.append(byte)
                }
            }
        }
        return out
    }

    /// `json` as one line: the bytes as they are when already single-line, compacted when not;
    /// nil when they are not exactly one JSON value.
    public static func singleLine(_ json: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        switch check(json) {
        case .singleLine: return Array(json)
        case .multiline: return compacted(json)
        case .invalid: return nil
        }
    }
}
