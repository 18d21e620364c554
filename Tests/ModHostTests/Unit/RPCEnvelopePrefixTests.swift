@testable import ModHost
import Testing

/// The id of a line cut short at `--max-line-bytes`, for the refusal to carry.
@Suite struct RPCEnvelopePrefixTests {
    private func id(_ prefix: String) -> String? {
        Array(prefix.utf8).withUnsafeBufferPointer { bytes in
            RPCEnvelope.id(inPrefix: bytes).map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        }
    }

    @Test func anIdBeforeTheCutIsFound() {
        #expect(id(#"{"jsonrpc":"2.0","id":17,"method":"m","params":["xxxx"#) == "17")
        #expect(id(#"{"jsonrpc":"2.0","id":"a\"b","params":{"k":[1,2,"#) == #""a\"b""#)
        #expect(id(#" { "method" : "m" , "id" : null , "params": ["#) == "null")
        #expect(id(#"{"i\u0064":-2.5e3,"params":["#) == "-2.5e3", "an escaped key")
    }

    @Test func noIdIsTakenWhereItCouldBeCutOrIsNotOne() {
        #expect(id(#"{"jsonrpc":"2.0","params":["xxxx"#) == nil, "the id would come after the cut")
        #expect(id(#"{"jsonrpc":"2.0","id":12"#) == nil, "12 may be the start of 1234")
        #expect(id(#"{"jsonrpc":"2.0","id":"unterminated"#) == nil)
        #expect(id(#"{"id":{"a":1},"params":["#) == nil, "an object is no id")
        #expect(id(#"{"params":{"id":5},"x":["#) == nil, "only a top-level id counts")
        #expect(id(#"[{"id":1,"params":["#) == nil, "a batch is not answered by one id")
        #expect(id(#"garbage"#) == nil)
    }
}
