import Foundation
import ModHostPluginSDK
import Testing

@Suite struct JSONValueTests {
    @Test func decodesEveryKind() throws {
        let json = #"[null, true, 1.5, "x", [2], {"k": false}]"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        #expect(value == [nil, true, 1.5, "x", [2], ["k": false]])
        #expect(value[3] == "x")
        #expect(value[5]["k"] == false)
        #expect(value[9] == nil)
    }

    @Test func encodesIntegersWithoutAFraction() throws {
        let data = try JSONEncoder().encode(["hello", 5] as JSONValue)
        #expect(String(decoding: data, as: UTF8.self) == #"["hello",5]"#)
    }

    @Test func rawJSONDecodesAndKnowsNull() throws {
        #expect(RawJSON(" null ").isNull)
        #expect(!RawJSON("{}").isNull)
        #expect(try RawJSON(#"{"a":[1,2]}"#).decode([String: [Int]].self) == ["a": [1, 2]])
    }
}
