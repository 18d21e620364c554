import ModHostJSON
import Testing

/// The one JSON value: parsed by the scanner, written back compact, compared by value.
@Suite struct JSONValueTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONValue(parsing: #" {"n": null, "t": true, "i": -7, "u": 18446744073709551615, "d": 0.25, "s": "x\ty", "a": [1, [2]], "o": {}} "#)
        #expect(value["n"] == .null)
        #expect(value["t"] == .bool(true))
        #expect(value["i"] == .int(-7))
        #expect(value["u"] == .uint(.max))
        #expect(value["d"] == .double(0.25))
        #expect(value["s"] == .string("x\ty"))
        #expect(value["a"] == .array([.int(1), .array([.int(2)])]))
        #expect(value["o"] == .object([:]))
    }

    @Test func subscriptsNeverTrap() throws {
        let value: JSONValue = ["list": [1, 2], "name": "x"]
        #expect(value["missing"] == .null)
        #expect(value["list"][5] == .null)
        #expect(value["list"][-1] == .null)
        #expect(value["name"]["deeper"][0] == .null)
        #expect(value[0] == .null)
    }

    @Test func accessorsReadNumbersExactly() {
        #expect(JSONValue.double(2.0).int == 2)
        #expect(JSONValue.double(2.5).int == nil)
        #expect(JSONValue.uint(.max).int == nil)
        #expect(JSONValue.int(.min).double == -9.223372036854775808e18)
        #expect(JSONValue.string("1").int == nil)
        #expect(JSONValue.int(3).string == nil)
        #expect(JSONValue.null.isNull && !JSONValue.int(0).isNull)
    }

    /// JSON has one number type: the cases only say how a number is held, so they compare (and
    /// hash) by value.
    @Test func numbersCompareAndHashByValue() {
        let pairs: [(JSONValue, JSONValue)] = [
            (.int(1), .double(1.0)), (.int(0), .double(-0.0)), (.uint(9_223_372_036_854_775_808), .double(9_223_372_036_854_775_808)),
            (.int(5), .uint(5)),
        ]
        for (a, b) in pairs {
            #expect(a == b && b == a, "\(a) \(b)")
            #expect(a.hashValue == b.hashValue, "\(a) \(b)")
        }
        #expect(JSONValue.int(1) != .double(1.5))
        #expect(JSONValue.int(-1) != .uint(.max))
        #expect(JSONValue.int(1) != .bool(true))
        #expect(JSONValue.string("1") != .int(1))
        #expect(Set<JSONValue>([.int(1), .double(1), .uint(1)]).count == 1)
    }

    @Test func finiteUnlessADoubleIsNot() {
        #expect((["a": [1, 2.5, "x", nil]] as JSONValue).isFinite)
        #expect(!(["a": [1, .double(.nan)]] as JSONValue).isFinite)
        #expect(!JSONValue.array([.object(["x": .double(-.infinity)])]).isFinite)
    }

    @Test func literalsBuildValues() {
        let value: JSONValue = ["a": [1, 2.5, "s", true, nil], "b": ["c": -3]]
        #expect(value == .object(["a": .array([.int(1), .double(2.5), .string("s"), .bool(true), .null]), "b": .object(["c": .int(-3)])]))
    }

    @Test func writesCompactTextWithSortedKeys() {
        let value: JSONValue = ["b": [1, 2.5, nil, false], "a": "q\"\n", "c": [:], "d": .uint(.max), "e": .int(.min)]
        #expect(value.text == #"{"a":"q\"\n","b":[1,2.5,null,false],"c":{},"d":18446744073709551615,"e":-9223372036854775808}"#)
        #expect(JSONValue.double(.infinity).text == "null")
        #expect(JSONValue.double(.nan).text == "null")
        #expect(JSONValue.double(1e300).text == "1e+300")
        #expect("\(JSONValue.array([]))" == "[]")
    }

    @Test(arguments: [
        #"{"a":[1,{"b":null}],"c":"é\u0001\\"}"#, "[1.5,-2,0.001,1e+22,-1.7976931348623157e+308]", #""\ud83d\ude00""#,
        "[18446744073709551615,-9223372036854775808]", "[[[[]]],{}]",
    ])
    func textReadsBackAsTheSameValue(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        #expect(try JSONValue(parsing: value.text) == value)
        #expect(try JSONValue(parsing: value.jsonBytes) == value)
    }

    /// Parsing is one pass, one frame per container: nesting up to the limit and wide values
    /// both read (the cost of each is measured end to end in `NestingTests`).
    @Test func deepAndWideValuesParse() throws {
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var value = try JSONValue(parsing: deep)
        var depth = 0
        while case .array(let elements) = value, let first = elements.first {
            value = first
            depth += 1
        }
        #expect(depth == 511)
        let wide = "[" + (0..<10_000).map(String.init).joined(separator: ",") + "]"
        #expect(try JSONValue(parsing: wide)[9_999] == 9_999)
    }

    @Test func failuresAreTheScanners() {
        #expect(throws: JSONScanner.Failure.unexpectedByte(UInt8(ascii: "}"), at: 7)) { try JSONValue(parsing: #"{"a":1}}"#) }
        #expect(throws: JSONScanner.Failure.unexpectedEnd) { try JSONValue(parsing: "[1,") }
        #expect(throws: JSONScanner.Failure.unexpectedEnd) { try JSONValue(parsing: "") }
    }
}
