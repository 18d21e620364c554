/// The one JSON string unescaper and escaper, for host, SDK and test kit.
///
/// Unescaping writes UTF-8 into a buffer: a decoded string is never longer than its escaped
/// text (every escape is at least as long as what it stands for), so a buffer of the text's
/// length always suffices, and the C string of a typed-export argument can be decoded in place
/// of an arena. `decode` makes a `String` of it.
public enum JSONString {
    /// What to do with a `\uD800`-style escape that is not half of a surrogate pair.
    public enum LoneSurrogates: Sendable {
        /// Decode it as U+FFFD, as a `String` would repair invalid UTF-16.
        case replace
        /// Refuse the string: it has no UTF-8 form.
        case refuse
    }

    /// Why escaped text does not decode; offsets are into the text given.
    public enum Failure: Error, Equatable, Sendable {
        case malformedEscape(at: Int)
        case loneSurrogate(at: Int)
    }

    /// Decodes the contents of a JSON string (without its quotes) into `out`, which has room for
    /// `raw.count` bytes, and returns the number of bytes written. The UTF-8 outside escapes is
    /// copied as it is (the scanner has validated it).
    public static func unescape(
        _ raw: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, loneSurrogates: LoneSurrogates = .replace
    ) throws(Failure) -> Int {
        guard let firstEscape = raw.firstIndex(of: UInt8(ascii: "\\")) else {
            if raw.count > 0 { out.update(from: raw.baseAddress!, count: raw.count) }
            return raw.count
        }
        if firstEscape > 0 { out.update(from: raw.baseAddress!, count: firstEscape) }
        var count = firstEscape
        var index = firstEscape
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                out[count] = byte
                count += 1
                index += 1
                continue
            }
            guard index + 1 < raw.count else { throw .malformedEscape(at: index) }
            let escape = raw[index + 1]
            let at = index
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out[count] = escape
            case UInt8(ascii: "b"): out[count] = 0x08
            case UInt8(ascii: "f"): out[count] = 0x0C
            case UInt8(ascii: "n"): out[count] = 0x0A
            case UInt8(ascii: "r"): out[count] = 0x0D
            case UInt8(ascii: "t"): out[count] = 0x09
            case UInt8(ascii: "u"):
                guard var scalar = hex4(raw, index) else { throw .malformedEscape(at: at) }
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"),
                    raw[index + 1] == UInt8(ascii: "u"), let low = hex4(raw, index + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xD800..<0xE000).contains(scalar) {
                    guard loneSurrogates == .replace else { throw .loneSurrogate(at: at) }
                    scalar = 0xFFFD
                }
                count += encodeUTF8(scalar, into: out + count)
                continue
            default:
                throw .malformedEscape(at: at)
            }
            count += 1
        }
        return count
    }

    /// The text of a JSON string's contents (without quotes); nil for a malformed escape.
    public static func decode(_ raw: UnsafeBufferPointer<UInt8>, loneSurrogates: LoneSurrogates = .replace) -> String? {
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        do {
            return try String(unsafeUninitializedCapacity: raw.count) { buffer throws(Failure) in
                try unescape(raw, into: buffer.baseAddress!, loneSurrogates: loneSurrogates)
            }
        } catch {
            return nil
        }
    }

    /// Appends `text` as a quoted JSON string: `"` and `\` escaped, control characters as
    /// `\n`, `\r`, `\t` or `\u00XX`; everything else (`/` and non-ASCII included) as it is.
    public static func append(_ text: some StringProtocol, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigit(byte >> 4), hexDigit(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `text` as a quoted JSON string.
    public static func quoted(_ text: some StringProtocol) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        append(text, to: &out)
        return out
    }

    /// `text` as a quoted JSON string, as text: for messages that show a name as JSON does.
    public static func quotedText(_ text: some StringProtocol) -> String {
        String(decoding: quoted(text), as: UTF8.self)
    }

    // MARK: Bytes

    @inlinable
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// The value of four hex digits at `index`, nil when they are not.
    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ index: Int) -> UInt32? {
        guard index + 4 <= raw.count else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            guard let digit = hexValue(raw[index + k]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private static func encodeUTF8(_ scalar: UInt32, into out: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            out[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            out[0] = UInt8(0xC0 | scalar >> 6)
            out[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[0] = UInt8(0xE0 | scalar >> 12)
            out[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            out[0] = UInt8(0xF0 | scalar >> 18)
            out[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            out[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
