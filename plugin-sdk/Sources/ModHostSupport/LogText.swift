/// Outside text (a client's path or params, a file name, event data, a store or provider key)
/// as a log line may quote it: bounded, escaped, quoted.
///
/// A log line must never carry a secret or a response body, and must stay one line a person
/// can read whatever it quotes. `quote` keeps at most `limit` characters (40 by default) of the
/// text, escapes quotes, backslashes, control and format characters (so a newline or a bidi
/// override cannot forge or hide a line), and says how long the text was when it cut it:
///
///     LogText.quote("openai.k1")                   // "openai.k1"
///     LogText.quote("a\nb")                        // "a\nb"
///     LogText.quote(String(repeating: "x", count: 100))
///                                                  // "xxxx…xxxx…" (100 characters), 40 x's
///     LogText.quote(path, keep: .tail)             // "…/plugins/libHealth.so" (57 characters)
public enum LogText {
    /// The most characters of outside text a log line quotes.
    public static let defaultLimit = 40

    /// Which end of a long text to keep.
    public enum Keep: Sendable {
        /// The start (keys, values: the prefix says what it is).
        case head
        /// The end (paths: the file name says what it is).
        case tail
    }

    /// `text` in double quotes, escaped, with at most `limit` of its characters (Unicode
    /// scalars); when cut, an ellipsis where it was cut and `(N characters)` after the quote.
    public static func quote(_ text: some StringProtocol, limit: Int = defaultLimit, keep: Keep = .head) -> String {
        let scalars = Substring(text).unicodeScalars
        let limit = max(limit, 0)
        let kept: Substring.UnicodeScalarView
        var count = 0
        let cut: Bool
        switch keep {
        case .head:
            var end = scalars.startIndex
            while end != scalars.endIndex, count < limit {
                scalars.formIndex(after: &end)
                count += 1
            }
            cut = end != scalars.endIndex
            kept = scalars[..<end]
        case .tail:
            var start = scalars.endIndex
            while start != scalars.startIndex, count < limit {
                scalars.formIndex(before: &start)
                count += 1
            }
            cut = start != scalars.startIndex
            kept = scalars[start...]
        }
        var out = "\""
        if cut, keep == .tail { out += "…" }
        for scalar in kept { escape(scalar, into: &out) }
        if cut, keep == .head { out += "…" }
        out += "\""
        if cut { out += " (\(scalars.count) characters)" }
        return out
    }

    /// A sentence of the program's own that embeds outside names (an error naming a file), made
    /// safe to log whole: control and format characters are escaped, so it stays one line and
    /// cannot forge another; nothing is cut, and quotes are left as they are.
    public static func line(_ text: some StringProtocol) -> String {
        var out = ""
        for scalar in Substring(text).unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.unicodeScalars.append(scalar) } else { escape(scalar, into: &out) }
        }
        return out
    }

    private static func escape(_ scalar: Unicode.Scalar, into out: inout String) {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
    }
}
