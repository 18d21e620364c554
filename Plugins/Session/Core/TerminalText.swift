/// Terminal output made readable for an LLM: ANSI escape sequences stripped (CSI, OSC, and
/// two-byte escapes), `\r` overprints resolved as a terminal shows them (a bare `\r` returns to
/// the line's start and what follows writes over it; `\r\n` is a line end), backspaces applied,
/// other control characters dropped, lines cut at a number of characters on UTF-8 boundaries.
public enum TerminalText {
    /// The visible lines of `bytes` (not-UTF-8 bytes become U+FFFD).
    public static func lines(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: stripEscapes(bytes), as: UTF8.self)
        var lines: [String] = []
        var line: [Character] = []
        var column = 0
        for ch in text {
            switch ch {
            case "\r\n", "\n":  // "\r\n" is one Character in Swift
                lines.append(String(line)); line = []; column = 0
            case "\r":  // a bare carriage return: what follows overprints the line
                column = 0
            case "\u{8}":
                column = max(0, column - 1)
            case "\t":
                put(" ", &line, &column)
            default:
                if let scalar = ch.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7F { continue }
                put(ch, &line, &column)
            }
        }
        if !line.isEmpty { lines.append(String(line)) }
        return lines
    }

    private static func put(_ ch: Character, _ line: inout [Character], _ column: inout Int) {
        if column < line.count { line[column] = ch } else { line.append(ch) }
        column += 1
    }

    /// `bytes` without ANSI escape sequences: ESC [ … final (CSI), ESC ] … BEL or ESC \ (OSC,
    /// also DCS/APC/PM strings), ESC and one more byte otherwise.
    public static func stripEscapes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x1B else { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let kind = bytes[i]
            i += 1
            switch kind {
            case UInt8(ascii: "["):
                while i < bytes.count, !(0x40...0x7E).contains(bytes[i]) { i += 1 }
                i += 1
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "_"), UInt8(ascii: "^"):
                while i < bytes.count {
                    if bytes[i] == 0x07 { i += 1; break }
                    if bytes[i] == 0x1B, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\\") { i += 2; break }
                    i += 1
                }
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "#"):
                i += 1
            default:
                break
            }
        }
        return out
    }

    /// `line` cut to at most `limit` characters (never inside a character, so never inside a
    /// UTF-8 sequence), with `…` marking the cut.
    public static func cut(_ line: String, to limit: Int) -> String {
        guard line.count > limit else { return line }
        return String(line.prefix(max(0, limit - 1))) + "…"
    }
}

/// Decodes UTF-8 arriving in pieces: a character split across two pieces comes out whole,
/// bytes that can never be UTF-8 become U+FFFD.
public struct UTF8Stream: Sendable {
    var carry: [UInt8] = []

    public init() {}

    /// The text of `bytes` after what was carried; an incomplete sequence at the end waits.
    public mutating func decode(_ bytes: [UInt8]) -> String {
        let all = carry + bytes
        let keep = Self.incompleteTail(all)
        carry = Array(all.suffix(keep))
        return String(decoding: all.prefix(all.count - keep), as: UTF8.self)
    }

    /// What is still carried, decoded (an incomplete sequence at the very end is U+FFFD).
    public mutating func finish() -> String {
        defer { carry = [] }
        return String(decoding: carry, as: UTF8.self)
    }

    /// How many bytes at the end start a sequence that more bytes could complete.
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        guard !bytes.isEmpty else { return 0 }
        for back in 1...min(3, bytes.count) {
            let b = bytes[bytes.count - back]
            if b & 0xC0 == 0x80 { continue }  // a continuation byte: look further back
            let needed = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1
            return needed > back ? back : 0
        }
        return 0
    }
}
