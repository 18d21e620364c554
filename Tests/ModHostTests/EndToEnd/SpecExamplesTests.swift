import ModHostTestKit
import Testing

/// Every example of the JSON-RPC 2.0 specification, section 7, sent verbatim to the real binary.
/// The Calc example plugin provides the methods the examples call; `--default-module calc` lets
/// their bare method names ("subtract") reach it.
@Suite struct SpecExamplesTests {
    let host: HostProcess

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.swiftPlugin("libCalc.so", into: plugins)
        host = try HostProcess(plugins: plugins, extraArguments: ["--default-module", "calc"])
    }

    /// Sends `request` and checks the single line that comes back equals `expected` as JSON.
    /// A batch response may list its elements in any order (the spec allows it).
    private func expect(_ request: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try host.send(raw: request)
        let line = try host.nextLine()
        let got = try JSON(parsing: line)
        let want = try JSON(parsing: expected)
        if case .array(let gotItems) = got, case .array(let wantItems) = want {
            #expect(Set(gotItems) == Set(wantItems), "\(request)", sourceLocation: sourceLocation)
            #expect(gotItems.count == wantItems.count, sourceLocation: sourceLocation)
        } else {
            #expect(got == want, "\(request)", sourceLocation: sourceLocation)
        }
    }

    /// Sends a line that must produce no output: a following ping must be the next line.
    private func expectNothing(_ request: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try host.send(raw: request)
        try host.send(raw: #"{"jsonrpc":"2.0","method":"host.status","id":"sentinel"}"#)
        let line = try JSON(parsing: host.nextLine())
        #expect(line["id"] == "sentinel", "\(request) produced \(line)", sourceLocation: sourceLocation)
    }

    @Test func positionalParameters() throws {
        try expect(#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#, #"{"jsonrpc": "2.0", "result": 19, "id": 1}"#)
        try expect(#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#, #"{"jsonrpc": "2.0", "result": -19, "id": 2}"#)
    }

    @Test func namedParameters() throws {
        try expect(#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
                   #"{"jsonrpc": "2.0", "result": 19, "id": 3}"#)
        try expect(#"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
                   #"{"jsonrpc": "2.0", "result": 19, "id": 4}"#)
    }

    @Test func notifications() throws {
        try expectNothing(#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#)
        try expectNothing(#"{"jsonrpc": "2.0", "method": "foobar"}"#)
    }

    @Test func nonExistentMethod() throws {
        try host.send(raw: #"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#)
        let response = try JSON(parsing: host.nextLine())
        #expect(response["id"] == "1")
        #expect(response["error"]["code"] == -32601)
        #expect(response["error"]["message"].string?.hasPrefix("Method not found") == true)
    }

    @Test func invalidJSON() throws {
        let response = try sendAndRead(#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#)
        #expect(response["error"]["code"] == -32700)
        #expect(response["id"] == .null)
        #expect(response.object?["id"] != nil)
    }

    @Test func invalidRequestObject() throws {
        let response = try sendAndRead(#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#)
        #expect(response["error"]["code"] == -32600)
        #expect(response["id"] == .null)
    }

    @Test func batchInvalidJSON() throws {
        let response = try sendAndRead(#"[ {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"jsonrpc": "2.0", "method" ]"#)
        #expect(response["error"]["code"] == -32700)
        #expect(response["id"] == .null)
    }

    @Test func emptyArray() throws {
        let response = try sendAndRead("[]")
        #expect(response.object != nil, "an empty batch is answered by one error object, not an array")
        #expect(response["error"]["code"] == -32600)
        #expect(response["id"] == .null)
    }

    @Test func invalidBatchOfOne() throws {
        let response = try sendAndRead("[1]")
        #expect(response.array?.count == 1)
        #expect(response[0]["error"]["code"] == -32600)
        #expect(response[0]["id"] == .null)
    }

    @Test func invalidBatch() throws {
        let response = try sendAndRead("[1,2,3]")
        #expect(response.array?.count == 3)
        for item in response.array ?? [] {
            #expect(item["error"]["code"] == -32600)
            #expect(item["id"] == .null)
        }
    }

    @Test func mixedBatch() throws {
        let response = try sendAndRead("""
            [{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},\
            {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},{"foo": "boo"},\
            {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},{"jsonrpc": "2.0", "method": "get_data", "id": "9"}]
            """)
        let items = try #require(response.array)
        #expect(items.count == 5)
        func item(_ id: JSON) -> JSON { items.first { $0["id"] == id } ?? .null }
        #expect(item("1")["result"] == 7)
        #expect(item("2")["result"] == 19)
        #expect(item("5")["error"]["code"] == -32601)
        #expect(item("9")["result"] == ["hello", 5])
        let invalid = items.filter { $0["id"] == .null }
        #expect(invalid.count == 1)
        #expect(invalid.first?["error"]["code"] == -32600)
    }

    @Test func batchOfNotificationsReturnsNothing() throws {
        try expectNothing(#"[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]"#)
    }

    private func sendAndRead(_ line: String) throws -> JSON {
        try host.send(raw: line)
        return try JSON(parsing: host.nextLine())
    }
}
