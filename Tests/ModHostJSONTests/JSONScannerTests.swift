import ModHostJSON
import Testing

/// The validating scanner against accept/reject cases in the style of JSONTestSuite
/// (y_*: must accept, n_*: must reject).
@Suite struct JSONScannerTests {
    static let accepted = [
        "{}", "[]", "0", "-0", "1.5e10", "-1E-2", "123e+5", "\"\"", "true", "false", "null",
        #"{"a":[1,{"b":null}],"c":"\u00e9\n\"\\\/"}"#, "[\"\u{1F600}\"]", #"["\ud83d\ude00"]"#,
        " \t\r\n[1] \n", "[1,2,[3,[4]]]", #"{"":0}"#, "\"é ü 漢\"",
    ]
    static let rejected = [
        "", "{", "[1,]", "[,1]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "01", "1.", ".5", "1e", "-", "+1", "NaN",
        "Infinity", "tru", "nul", "'x'", "\"unterminated", "\"bad \\x escape\"", "\"\\u12G4\"", "\"tab\there\"",
        "[1] [2]", "{\"a\":1}}", "[\"\u{7}\"]",
    ]

    @Test(arguments: accepted)
    func accepts(_ text: String) {
        #expect(Self.valid(Array(text.utf8)), "should accept \(text)")
    }

    @Test(arguments: rejected)
    func rejects(_ text: String) {
        #expect(!Self.valid(Array(text.utf8)), "should reject \(text)")
    }

    @Test func rejectsInvalidUTF8() {
        #expect(!Self.valid([0x22, 0xFF, 0x22]))  // not a UTF-8 byte
        #expect(!Self.valid([0x22, 0xC0, 0xAF, 0x22]))  // overlong '/'
        #expect(!Self.valid([0x22, 0xED, 0xA0, 0x80, 0x22]))  // UTF-16 surrogate as UTF-8
        #expect(!Self.valid([0x22, 0xE2, 0x82, 0x22]))  // truncated sequence
        #expect(Self.valid([0x22, 0xE2, 0x82, 0xAC, 0x22]))  // "€"
    }

    @Test func refusesDeepNestingInsteadOfOverflowingTheStack() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(!Self.valid(deep))
        let fine = Array(repeating: UInt8(ascii: "["), count: 500) + Array(repeating: UInt8(ascii: "]"), count: 500)
        #expect(Self.valid(fine))
    }

    @Test func compactsPrettyPrintedJSONOntoOneLine() {
        let pretty = Array("{\n  \"a\" : [ 1, 2 ],\n  \"s\" : \"x y\\n\"\n}".utf8)
        let compact = pretty.withUnsafeBufferPointer { JSONScanner.compacted($0) }
        #expect(String(decoding: compact, as: UTF8.self) == #"{"a":[1,2],"s":"x y\n"}"#)
    }

    @Test func decodesEscapedStrings() {
        let raw = Array(#"a\"b\\c\/\n\u00e9\ud83d\ude00"#.utf8)
        #expect(raw.withUnsafeBufferPointer { JSONString.decode($0) } == "a\"b\\c/\né😀")
        #expect(Array(#"bad\q"#.utf8).withUnsafeBufferPointer { JSONString.decode($0) } == nil)
    }

    @Test func quotesStringsAsValidJSON() {
        let quoted = JSONString.quoted("line\nbreak \"quoted\" \u{1} tab\t")
        #expect(String(decoding: quoted, as: UTF8.self) == #""line\nbreak \"quoted\" \u0001 tab\t""#)
        #expect(Self.valid(quoted))
    }

    static func valid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { JSONScanner.isValid($0) }
    }
}
