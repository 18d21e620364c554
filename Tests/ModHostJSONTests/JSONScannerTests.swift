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

/// The visitors: walking an object or array value by value, the caller deciding what to read.
@Suite struct JSONScannerVisitorTests {
    @Test func membersArriveInOrderWithTheScannerAtTheirValue() throws {
        let bytes = Array(#" { "a" : 1 , "b\u0063" : [true, {"x": null}] , "s": "t" } "#.utf8)
        var seen: [String] = []
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.visitObject { scanner, key in
                let range = try scanner.skipValueRange()
                seen.append("\(scanner.string(key))=\(String(decoding: buffer[range], as: UTF8.self))")
            }
            try scanner.expectEnd()
        }
        #expect(seen == ["a=1", #"bc=[true, {"x": null}]"#, #"s="t""#])
    }

    @Test func elementsArriveWithTheirPositionsAndNestedVisitsCountDepth() throws {
        let bytes = Array("[[1, 2], [], [[3]]]".utf8)
        var leaves: [String] = []
        var deepest = 0
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            func walk(_ scanner: inout JSONScanner, _ path: String) throws {
                if scanner.next == UInt8(ascii: "[") {
                    try scanner.visitArray { scanner, position in try walk(&scanner, path + "/\(position)") }
                } else {
                    deepest = max(deepest, scanner.depth)
                    let number = try scanner.readNumber()
                    leaves.append(path + "=" + String(decoding: buffer[number.text], as: UTF8.self))
                }
            }
            try walk(&scanner, "")
            #expect(scanner.depth == 0)
            try scanner.expectEnd()
        }
        #expect(leaves == ["/0/0=1", "/0/1=2", "/2/0/0=3"])
        #expect(deepest == 3)
    }

    @Test func whatAVisitorThrowsEndsTheWalkAsItIs() {
        struct Stop: Error {}
        let bytes = Array(#"{"a": 1, "b": 2}"#.utf8)
        var keys: [String] = []
        #expect(throws: Stop.self) {
            try bytes.withUnsafeBufferPointer { buffer in
                var scanner = JSONScanner(buffer)
                try scanner.visitObject { scanner, key in
                    keys.append(scanner.string(key))
                    throw Stop()
                }
            }
        }
        #expect(keys == ["a"])
    }

    @Test func keysCompareWithoutDecodingUnlessEscaped() throws {
        let bytes = Array(#"{"id": 1, "\u0069d": 2, "idx": 3}"#.utf8)
        var matches: [Bool] = []
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.visitObject { scanner, key in
                matches.append(scanner.string(key, equals: "id"))
                try scanner.skipValue()
            }
        }
        #expect(matches == [true, true, false])
    }

    @Test func scannerFailuresNameTheByte() {
        func failure(_ text: String) -> String? {
            Array(text.utf8).withUnsafeBufferPointer { JSONScanner.failure(in: $0).map(String.init(describing:)) }
        }
        #expect(failure(#"{"a": 1,}"#) == "unexpected '}' at byte 8")
        #expect(failure("[1, 2") == "unexpected end of input")
        #expect(failure("[1] 2") == "unexpected '2' at byte 4")
        #expect(failure("[\"\u{1}\"]") == "unexpected byte 0x1 at byte 2")
        #expect(Array([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]).withUnsafeBufferPointer { JSONScanner.failure(in: $0) } == .invalidUTF8(at: 2))
    }

    /// One limit for host and SDK: 512 nested arrays and objects are read, 513 are refused with
    /// a failure that names the limit.
    @Test func theNestingLimitIs512() throws {
        #expect(JSONScanner.maximumDepth == 512)
        let limit = String(repeating: #"{"a":["#, count: 256) + String(repeating: "]}", count: 256)
        let past = "[" + limit + "]"
        #expect(Array(limit.utf8).withUnsafeBufferPointer { JSONScanner.isValid($0) })
        let failure = try #require(Array(past.utf8).withUnsafeBufferPointer { JSONScanner.failure(in: $0) })
        #expect(failure == .tooDeep(at: 1536))
        #expect("\(failure)" == "nesting deeper than 512 levels (the limit) at byte 1536")
        #expect(throws: JSONScanner.Failure.tooDeep(at: 1536)) { try JSONValue(parsing: past) }
        #expect(try JSONValue(parsing: limit)["a"][0]["a"][0]["a"] != .null)
    }

    @Test func checkTellsSingleLineFromMultiline() {
        func verdict(_ text: String) -> JSONScanner.Verdict { Array(text.utf8).withUnsafeBufferPointer { JSONScanner.check($0) } }
        #expect(verdict(#"{"a": "x\ny"}"#) == .singleLine)
        #expect(verdict("{\"a\":\r\n 1}") == .multiline)
        #expect(verdict("{\"a\": 1} x") == .invalid)
        let single = Array("{\n \"a\" : [1, \"b c\"]\n}".utf8).withUnsafeBufferPointer { JSONScanner.singleLine($0) }
        #expect(single.map { String(decoding: $0, as: UTF8.self) } == #"{"a":[1,"b c"]}"#)
        #expect(Array("[1,".utf8).withUnsafeBufferPointer { JSONScanner.singleLine($0) } == nil)
    }
}
