import ModHostSupport
import Testing

/// What a log line quotes of outside text: at most 40 characters, escaped, one line.
@Suite struct LogTextTests {
    @Test func shortTextIsQuotedWhole() {
        #expect(LogText.quote("openai.k1") == #""openai.k1""#)
        #expect(LogText.quote("") == #""""#)
    }

    @Test func longTextKeepsFortyCharactersAndSaysHowLongItWas() {
        let secret = "sk-live-" + String(repeating: "A1b2C3d4", count: 12)  // 104 characters
        let quoted = LogText.quote(secret)
        #expect(quoted == "\"\(secret.prefix(40))…\" (104 characters)")
        #expect(!quoted.contains(secret.prefix(41)))
    }

    @Test func exactlyTheLimitIsNotCut() {
        let forty = String(repeating: "x", count: 40)
        #expect(LogText.quote(forty) == "\"\(forty)\"")
        #expect(LogText.quote(forty + "y") == "\"\(forty)…\" (41 characters)")
    }

    @Test func tailKeepsTheEndOfAPath() {
        let path = "/tmp/modhost-plugins-Ab12Cd/some/deeper/folder/libHealth.so"
        let quoted = LogText.quote(path, keep: .tail)
        #expect(quoted == "\"…\(path.suffix(40))\" (\(path.count) characters)")
        #expect(quoted.contains("libHealth.so"))
    }

    @Test func quotesBackslashesAndControlCharactersAreEscaped() {
        #expect(LogText.quote("a\"b\\c") == #""a\"b\\c""#)
        #expect(LogText.quote("line1\nline2\r\tend") == #""line1\nline2\r\tend""#)
        #expect(LogText.quote("bell\u{07}esc\u{1B}[31m") == #""bell\u{7}esc\u{1B}[31m""#)
        // A bidi override would reorder the rest of the line on a terminal.
        #expect(LogText.quote("abc\u{202E}def") == #""abc\u{202E}def""#)
        #expect(LogText.quote("é ünï 日本") == "\"é ünï 日本\"")
    }

    @Test func theLimitCountsCharactersNotEscapes() {
        let text = String(repeating: "\n", count: 50)
        let quoted = LogText.quote(text)
        #expect(quoted == "\"" + String(repeating: "\\n", count: 40) + "…\" (50 characters)")
        #expect(!quoted.contains("\n"))
    }

    @Test func aSmallerLimitIsHonoured() {
        #expect(LogText.quote("abcdef", limit: 3) == #""abc…" (6 characters)"#)
        #expect(LogText.quote("abcdef", limit: 0) == #""…" (6 characters)"#)
    }

    @Test func aSentenceStaysOneLineButWhole() {
        let sentence = "refusing to load: /p/x\nFAKE error: pwned\u{202E}.so is \"odd\""
        let safe = LogText.line(sentence)
        #expect(safe == #"refusing to load: /p/x\nFAKE error: pwned\u{202E}.so is "odd""#)
        #expect(!safe.contains("\n") && !safe.unicodeScalars.contains("\u{202E}"))
        #expect(LogText.line(String(repeating: "a", count: 500)).count == 500)
    }
}
