import ModHostJSON
import Testing

/// The one string unescaper and escaper.
@Suite struct JSONStringTests {
    private func decode(_ raw: String, loneSurrogates: JSONString.LoneSurrogates = .replace) -> String? {
        Array(raw.utf8).withUnsafeBufferPointer { JSONString.decode($0, loneSurrogates: loneSurrogates) }
    }

    private func unescape(_ raw: String, loneSurrogates: JSONString.LoneSurrogates) throws(JSONString.Failure) -> [UInt8] {
        let bytes = Array(raw.utf8)
        var out = [UInt8](repeating: 0, count: bytes.count)
        let count = try bytes.withUnsafeBufferPointer { raw throws(JSONString.Failure) in
            try out.withUnsafeMutableBufferPointer { out throws(JSONString.Failure) in
                try JSONString.unescape(raw, into: out.baseAddress!, loneSurrogates: loneSurrogates)
            }
        }
        return Array(out[..<count])
    }

    @Test func everyEscapeDecodes() {
        #expect(decode(#"\"\\\/\b\f\n\r\t"#) == "\"\\/\u{8}\u{C}\n\r\t")
        #expect(decode(#"\u0041\u00e9\u20AC\ud83d\ude00"#) == "Aé€😀")
        #expect(decode("plain é 漢") == "plain é 漢")
        #expect(decode(#"\u0000"#) == "\u{0}")
    }

    @Test func malformedEscapesAreNil() {
        for raw in [#"\q"#, #"\u12"#, #"\u12G4"#, #"tail\"#, #"\x41"#] {
            #expect(decode(raw) == nil, "\(raw)")
        }
        #expect(throws: JSONString.Failure.malformedEscape(at: 2)) { try unescape(#"ab\q"#, loneSurrogates: .replace) }
    }

    @Test func loneSurrogatesAreReplacedOrRefused() throws {
        #expect(decode(#"a\ud800b"#) == "a\u{FFFD}b")
        #expect(decode(#"\udc00\ud800"#) == "\u{FFFD}\u{FFFD}")
        #expect(throws: JSONString.Failure.loneSurrogate(at: 1)) { try unescape(#"a\ud800b"#, loneSurrogates: .refuse) }
        // A pair is never lone, whichever the policy.
        #expect(try unescape(#"\ud83d\ude00"#, loneSurrogates: .refuse) == Array("😀".utf8))
    }

    /// A decoded string is never longer than its text: decoding in place of the text is safe.
    @Test func decodingNeverGrowsTheText() throws {
        for raw in [#"\u0041"#, #"\u00e9"#, #"\u20ac"#, #"\ud83d\ude00"#, #"\n"#, "é", #"\ud800"#] {
            #expect(try unescape(raw, loneSurrogates: .replace).count <= raw.utf8.count, "\(raw)")
        }
    }

    @Test func quotingEscapesWhatJSONRequires() {
        #expect(JSONString.quotedText("line\nbreak \"q\" \\ \u{1} \t \r é / \u{7F}") == #""line\nbreak \"q\" \\ \u0001 \t \r é / "# + "\u{7F}\"")
        #expect(JSONString.quotedText("") == #""""#)
    }

    @Test(arguments: ["", "plain", "quo\"te", "back\\slash", "\u{0}\u{1}\u{1F}", "tab\tnew\nline\r", "é日本🙂", "\u{2028}"])
    func quotedTextReadsBack(_ text: String) throws {
        let quoted = JSONString.quoted(text)
        #expect(try JSONValue(parsing: quoted) == .string(text))
    }
}

/// Numbers read exactly: integers from their digits, never through a `Double`.
@Suite struct JSONNumberTests {
    private func value(_ text: String) throws -> JSONValue { try JSONValue(parsing: text) }

    @Test func integersAreExact() throws {
        #expect(try value("0") == .int(0))
        #expect(try value("9223372036854775807") == .int(.max))
        #expect(try value("-9223372036854775808") == .int(.min))
        #expect(try value("9223372036854775808") == .uint(9_223_372_036_854_775_808))
        #expect(try value("18446744073709551615") == .uint(.max))
        // 2^53 + 1 has no Double: it stays exact.
        #expect(try value("9007199254740993").int == 9_007_199_254_740_993)
    }

    @Test func theRestAreDoubles() throws {
        #expect(try value("18446744073709551616") == .double(18_446_744_073_709_551_616))
        #expect(try value("-9223372036854775809") == .double(-9.223372036854775809e18))
        #expect(try value("1.5") == .double(1.5))
        #expect(try value("1e2") == .double(100))
        #expect(try value("1e400") == .double(.infinity))
        if case .double(let zero) = try value("-0") {
            #expect(zero == 0 && zero.sign == .minus)
        } else {
            Issue.record("-0 is not a double")
        }
    }

    @Test func integerTextIsReadWithItsOverflow() {
        func integer(_ text: String) -> (Bool, UInt64, Bool)? {
            Array(text.utf8).withUnsafeBufferPointer { JSONNumber.integer($0) }.map { ($0.negative, $0.magnitude, $0.overflow) }
        }
        #expect(integer("-42")! == (true, 42, false))
        #expect(integer("18446744073709551615")! == (false, .max, false))
        #expect(integer("18446744073709551616")!.2)
        #expect(integer("1.5") == nil)
        #expect(integer("1e3") == nil)
        #expect(integer("-") == nil)
        #expect(integer("") == nil)
    }
}
