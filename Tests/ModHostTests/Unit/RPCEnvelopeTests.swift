@testable import ModHost
import Testing

/// Reading requests out of a line without decoding params.
@Suite struct RPCEnvelopeTests {
    private func parse(_ text: String, _ check: (RPCLine, UnsafeBufferPointer<UInt8>) -> Void) {
        Array(text.utf8).withUnsafeBufferPointer { check(RPCEnvelope.parse($0), $0) }
    }

    private func text(_ range: Range<Int>?, in line: UnsafeBufferPointer<UInt8>) -> String? {
        range.map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) }
    }

    @Test func findsRawMembersWhateverTheirOrder() {
        parse(#"{"params": {"a": [1, 2]}, "id": "x", "method": "echo.echo", "jsonrpc": "2.0"}"#) { parsed, line in
            guard case .single(.request(let request)) = parsed else { Issue.record("not a request: \(parsed)"); return }
            #expect(request.method == "echo.echo")
            #expect(text(request.id, in: line) == #""x""#)
            #expect(text(request.params, in: line) == #"{"a": [1, 2]}"#)
        }
    }

    @Test func notificationHasNoID() {
        parse(#"{"jsonrpc":"2.0","method":"update","params":[1]}"#) { parsed, _ in
            guard case .single(.request(let request)) = parsed else { Issue.record("not a request"); return }
            #expect(request.id == nil)
        }
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","method":1}"#, "method"),
        (#"{"method":"a.b","id":1}"#, "jsonrpc"),
        (#"{"jsonrpc":"2.0","method":"a.b","params":3}"#, "params"),
        (#"{"jsonrpc":"2.0","method":"a.b","id":{}}"#, "id"),
        (#"{"jsonrpc":"2.0","method":"a.b","id":true}"#, "id"),
        (#"[1]"#, "object"),
    ])
    func invalidRequestsSayWhatIsWrong(line: String, mentions: String) {
        parse(line) { parsed, _ in
            let entries: [RPCEntry]
            switch parsed {
            case .single(let entry): entries = [entry]
            case .batch(let batch): entries = batch
            default: entries = []
            }
            guard case .invalid(_, let message)? = entries.first else { Issue.record("accepted: \(line)"); return }
            #expect(message.contains(mentions), "\(message)")
        }
    }

    @Test func invalidRequestKeepsAValidID() {
        parse(#"{"jsonrpc":"1.0","method":"a.b","id":7}"#) { parsed, line in
            guard case .single(.invalid(let id, _)) = parsed else { Issue.record("not invalid"); return }
            #expect(text(id, in: line) == "7")
        }
    }

    @Test func batchesEmptyBatchesAndBlankLines() {
        parse(#"[{"jsonrpc":"2.0","method":"a.b","id":1}, {"jsonrpc":"2.0","method":"a.c"}, 5]"#) { parsed, _ in
            guard case .batch(let entries) = parsed else { Issue.record("not a batch"); return }
            #expect(entries.count == 3)
        }
        parse(" [ ] ") { parsed, _ in
            guard case .single(.invalid) = parsed else { Issue.record("an empty batch is one invalid request"); return }
        }
        parse("   ") { parsed, _ in
            guard case .blank = parsed else { Issue.record("blank line"); return }
        }
        parse(#"{"jsonrpc":"2.0"} x"#) { parsed, _ in
            guard case .parseError = parsed else { Issue.record("trailing data must be a parse error"); return }
        }
    }
}
