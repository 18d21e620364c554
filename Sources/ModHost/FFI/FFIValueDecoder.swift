import ModHostJSON

/// Converts one JSON value of a call's params into the C argument of a typed export: exactly,
/// or not at all.
///
/// Values arrive already validated by `JSONScanner` (`TypedExport` locates each with
/// `skipValueRange`), so only what the type demands is checked here: integers are read from their
/// decimal text (never through `Double`) and range-checked, floats must be finite in their type,
/// `str` is decoded into NUL-terminated UTF-8 without embedded NUL, `bytes` is strict base64.
/// A refusal says what is wrong with the value; the caller names the parameter and makes it `-32602`.
///
/// Each C argument lives in an 8-byte slot; `str` and `bytes` point into a caller-provided
/// arena, which must stay alive until the C function returns. A decoded string is never longer
/// than its JSON text, so the JSON's length plus one NUL per `str` always suffices.
enum FFIValueDecoder {
    /// The bytes reserved for one C argument: every supported C type fits in 8.
    static let slotStride = 8

    /// Writes the C argument(s) for `value` (one complete, valid JSON value) into `slot` (two
    /// consecutive slots for `bytes`: pointer, then `size_t` length); string data goes to
    /// `arena + used`, and `used` advances past it.
    static func decode(
        _ type: FFIType, _ value: UnsafeBufferPointer<UInt8>, into slot: UnsafeMutableRawPointer,
        arena: UnsafeMutablePointer<UInt8>, used: inout Int
    ) throws(Refusal) {
        let first = value[0]
        switch type {
        case .void:
            preconditionFailure("void is never a parameter")
        case .bool:
            if first == UInt8(ascii: "t") {
                slot.storeBytes(of: 1, as: UInt8.self)
            } else if first == UInt8(ascii: "f") {
                slot.storeBytes(of: 0, as: UInt8.self)
            } else {
                throw mismatch(type, first)
            }
        case .i8, .i16, .i32, .i64, .u8, .u16, .u32, .u64:
            guard isNumber(first) else { throw mismatch(type, first) }
            try storeInteger(type, value, into: slot)
        case .f32, .f64:
            guard isNumber(first) else { throw mismatch(type, first) }
            // Short texts are small strings: no allocation.
            let text = String(decoding: value, as: UTF8.self)
            if type == .f64 {
                guard let double = Double(text), double.isFinite else { throw outOfRange(value, type, " (not finite)") }
                slot.storeBytes(of: double, as: Double.self)
            } else {
                guard let float = Float(text), float.isFinite else { throw outOfRange(value, type, " (not finite)") }
                slot.storeBytes(of: float, as: Float.self)
            }
        case .str:
            guard first == UInt8(ascii: "\"") else { throw mismatch(type, first) }
            let start = arena + used
            let count = try decodeString(contents(of: value), into: start)
            start[count] = 0
            slot.storeBytes(of: UnsafeRawPointer(start), as: UnsafeRawPointer.self)
            used += count + 1
        case .bytes:
            guard first == UInt8(ascii: "\"") else { throw mismatch(type, first) }
            let start = arena + used
            let text = contents(of: value)
            // Base64 text never needs escapes, but "\/" is legal JSON for "/": decode first then.
            let encoded: UnsafeBufferPointer<UInt8>
            if text.contains(UInt8(ascii: "\\")) {
                encoded = UnsafeBufferPointer(start: start, count: try decodeString(text, into: start))
            } else {
                encoded = text
            }
            guard let count = decodeBase64(encoded, into: start) else {
                throw Refusal("expected bytes as base64, got a string that is not valid base64")
            }
            slot.storeBytes(of: UnsafeRawPointer(start), as: UnsafeRawPointer.self)
            (slot + slotStride).storeBytes(of: UInt(count), as: UInt.self)
            used += count
        }
    }

    // MARK: Numbers

    private static func isNumber(_ first: UInt8) -> Bool {
        first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
    }

    /// Reads a JSON integer literal as sign and magnitude, then stores it at the type's width.
    private static func storeInteger(
        _ type: FFIType, _ value: UnsafeBufferPointer<UInt8>, into slot: UnsafeMutableRawPointer
    ) throws(Refusal) {
        // A fraction or exponent is the better message even when the digits overflow.
        guard let (negative, magnitude, overflow) = JSONNumber.integer(value) else {
            throw Refusal("expected an integer for \(type.spelling), got \(shown(value))")
        }
        guard !overflow else { throw outOfRange(value, type) }
        switch type {
        case .i8, .i16, .i32, .i64:
            let bits: UInt64 = type == .i8 ? 8 : type == .i16 ? 16 : type == .i32 ? 32 : 64
            let limit: UInt64 = 1 << (bits - 1)  // |min|; max is one less
            guard negative ? magnitude <= limit : magnitude < limit else { throw outOfRange(value, type) }
            let signed = negative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
            switch type {
            case .i8: slot.storeBytes(of: Int8(signed), as: Int8.self)
            case .i16: slot.storeBytes(of: Int16(signed), as: Int16.self)
            case .i32: slot.storeBytes(of: Int32(signed), as: Int32.self)
            default: slot.storeBytes(of: signed, as: Int64.self)
            }
        default:
            let maximum: UInt64 = type == .u8 ? 0xFF : type == .u16 ? 0xFFFF : type == .u32 ? 0xFFFF_FFFF : .max
            guard !negative || magnitude == 0, magnitude <= maximum else { throw outOfRange(value, type) }
            switch type {
            case .u8: slot.storeBytes(of: UInt8(magnitude), as: UInt8.self)
            case .u16: slot.storeBytes(of: UInt16(magnitude), as: UInt16.self)
            case .u32: slot.storeBytes(of: UInt32(magnitude), as: UInt32.self)
            default: slot.storeBytes(of: magnitude, as: UInt64.self)
            }
        }
    }

    // MARK: Strings and base64

    /// The bytes between a JSON string's quotes.
    private static func contents(of value: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: value[1..<value.count - 1])
    }

    /// Decodes the (validated) contents of a JSON string into `out` as UTF-8 and returns the
    /// byte count, at most `raw.count`. Refuses `\u0000` and lone UTF-16 surrogates, which have no
    /// place in a C string of UTF-8.
    private static func decodeString(_ raw: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) throws(Refusal) -> Int {
        let count: Int
        do {
            count = try JSONString.unescape(raw, into: out, loneSurrogates: .refuse)
        } catch .loneSurrogate {
            throw Refusal("the string holds a lone UTF-16 surrogate, which is not valid UTF-8")
        } catch {
            throw Refusal("the string has a malformed escape")
        }
        // Raw text cannot hold a NUL (the scanner refuses control characters): only \u0000 can.
        if raw.contains(UInt8(ascii: "\\")), UnsafeBufferPointer(start: out, count: count).contains(0) {
            throw Refusal("the string contains NUL (\\u0000), which a C string cannot hold")
        }
        return count
    }

    /// Decodes standard base64 (RFC 4648 section 4: `A-Z a-z 0-9 + /`, padded to a multiple of
    /// four, no white space; the rules of Foundation's `Data(base64Encoded:)`) into `out`, which may
    /// be where `text` starts. Returns the byte count, or nil for text that is not base64.
    static func decodeBase64(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int? {
        guard text.count % 4 == 0 else { return nil }
        var count = 0
        var index = 0
        while index < text.count {
            let isLast = index + 4 == text.count
            let padding = isLast ? (text[index + 3] == UInt8(ascii: "=") ? (text[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            guard let a = sextet(text[index]), let b = sextet(text[index + 1]) else { return nil }
            var group = a << 18 | b << 12
            if padding < 2 {
                guard let c = sextet(text[index + 2]) else { return nil }
                group |= c << 6
            }
            if padding < 1 {
                guard let d = sextet(text[index + 3]) else { return nil }
                group |= d
            }
            out[count] = UInt8(truncatingIfNeeded: group >> 16)
            if padding < 2 { out[count + 1] = UInt8(truncatingIfNeeded: group >> 8) }
            if padding < 1 { out[count + 2] = UInt8(truncatingIfNeeded: group) }
            count += 3 - padding
            index += 4
        }
        return count
    }

    private static func sextet(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(byte - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    // MARK: Refusals

    /// What is wrong with a value, without naming the parameter: `expected i32, got a string`.
    struct Refusal: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// `expected i32, got a string`.
    private static func mismatch(_ type: FFIType, _ first: UInt8) -> Refusal {
        let expected =
            switch type {
            case .str: "str (a string)"
            case .bytes: "bytes (a base64 string)"
            case .bool: "bool (true or false)"
            default: type.spelling
            }
        return Refusal("expected \(expected), got \(kind(of: first))")
    }

    /// What a JSON value is, from its first byte: "a string", "null", …
    static func kind(of first: UInt8) -> String {
        switch first {
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "{"): "an object"
        default: "a number"
        }
    }

    /// `1099511627776 is out of range for i32`.
    private static func outOfRange(_ value: UnsafeBufferPointer<UInt8>, _ type: FFIType, _ why: String = "") -> Refusal {
        Refusal("\(shown(value)) is out of range for \(type.spelling)\(why)")
    }

    /// A number's text for a message, cut short when absurdly long.
    private static func shown(_ value: UnsafeBufferPointer<UInt8>) -> String {
        value.count <= 40
            ? String(decoding: value, as: UTF8.self)
            : String(decoding: UnsafeBufferPointer(rebasing: value[0..<32]), as: UTF8.self) + "… (\(value.count) characters)"
    }
}
