import ModHostJSON
import Testing

/// Building objects by hand, and reading an object's members as raw text.
@Suite struct JSONObjectWriterTests {
    @Test func writesMembersInOrderAsValidJSON() throws {
        var object = JSONObjectWriter()
        object.add("module", "e\"cho\n")
        object.add("code", -7)
        object.add("big", UInt64.max)
        object.add("ok", true)
        object.add("value", ["b": 1, "a": [nil]] as JSONValue)
        object.add("details", json: Array(#"{"raw": [1, 2]}"#.utf8))
        object.add("ke\\y", json: Array("null".utf8))
        let text = String(decoding: object.result, as: UTF8.self)
        #expect(text == #"{"module":"e\"cho\n","code":-7,"big":18446744073709551615,"ok":true,"value":{"a":[null],"b":1},"details":{"raw": [1, 2]},"ke\\y":null}"#)
        #expect(object.result.withUnsafeBufferPointer { JSONScanner.isValid($0) })
    }

    @Test func anEmptyWriterIsAnEmptyObject() throws {
        #expect(JSONObjectWriter().result == Array("{}".utf8))
        var one = JSONObjectWriter()
        one.add("a", "b")
        #expect(try JSONValue(parsing: one.result) == ["a": "b"])
    }

    @Test func membersAreRawTextByDecodedName() {
        let members = JSONMembers.raw(Array(#" {"topic": "a.b", "d\u0061ta": {"x": [1, "]"]}, "n": 1, "n": 2} "#.utf8))
        #expect(members?.mapValues { String(decoding: $0, as: UTF8.self) } == ["topic": #""a.b""#, "data": #"{"x": [1, "]"]}"#, "n": "2"])
        #expect(JSONMembers.raw(Array("[1]".utf8)) == nil)
        #expect(JSONMembers.raw(Array(#"{"a": }"#.utf8)) == nil)
        #expect(JSONMembers.raw(Array(#"{"a": 1} x"#.utf8)) == nil)
        #expect(JSONMembers.raw(Array("{}".utf8)) == [:])
    }
}
