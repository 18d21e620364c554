@testable import ModHostPluginSDK
import Testing

@Suite struct JSONScannerTests {
    private func elements(_ json: String) -> [String]? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            var ranges: [Range<Int>] = []
            do {
                try scanner.visitArray { scanner, _ in ranges.append(try scanner.skipValueRange()) }
                try scanner.expectEnd()
            } catch {
                return nil
            }
            return ranges.map { String(decoding: buffer[$0], as: UTF8.self) }
        }
    }

    @Test func splitsTopLevelArrays() {
        #expect(elements("[]") == [])
        #expect(elements(" [ 1 , \"a,]\" ,{\"k\":[1,{}]}, null ] ") == ["1", "\"a,]\"", "{\"k\":[1,{}]}", "null"])
        #expect(elements(#"["\"]", 2]"#) == [#""\"]""#, "2"])
    }

    @Test func rejectsMalformedArrays() {
        #expect(elements("[1,]") == nil)
        #expect(elements("[1 2]") == nil)
        #expect(elements("[1") == nil)
        #expect(elements("{}") == nil)
        #expect(elements("[1] x") == nil)
    }

    @Test func findsObjectMembers() {
        let bytes = Array(#"{"schema": 3, "state": {"a": [1, "}"]}}"#.utf8)
        let members = bytes.withUnsafeBufferPointer { buffer in
            JSONMembers.ranges(buffer)?.mapValues { String(decoding: buffer[$0], as: UTF8.self) }
        }
        #expect(members == ["schema": "3", "state": #"{"a": [1, "}"]}"#])
    }
}
