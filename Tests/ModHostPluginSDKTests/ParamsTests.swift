import CModHost
import ModHostPluginSDK
import Testing

@Suite struct ParamsTests {
    let harness = PluginHarness(entry: Arithmetic.pluginEntry())

    // The JSON-RPC 2.0 specification's section 7 examples for subtract.
    @Test(arguments: [
        ("[42, 23]", "19"),
        ("[23, 42]", "-19"),
        (#"{"subtrahend": 23, "minuend": 42}"#, "19"),
        (#"{"minuend": 42, "subtrahend": 23}"#, "19"),
        ("[ 42 ,\t23 ]", "19"),
    ])
    func positionalAndNamedParams(params: String, result: String) {
        #expect(harness.outcome("subtract", params) == .result(result))
    }

    @Test func positionalElementsKeepTheirJSON() {
        // Nested values and strings with brackets and commas are copied, not re-parsed.
        let outcome = harness.outcome("subtract", #"["x,]", 1]"#)
        #expect(outcome == .error(code: -32602, message: #"invalid params: "minuend": expected Int, found a string"#, data: nil))
    }

    @Test(arguments: ["[42]", "[42, 23, 1]", "[]"])
    func wrongArityIsInvalidParams(params: String) throws {
        let outcome = try #require(harness.outcome("subtract", params))
        guard case .error(let code, let message, _) = outcome else {
            Issue.record("expected an error, got \(outcome)")
            return
        }
        #expect(code == -32602)
        #expect(message.hasPrefix("invalid params: expected 2 positional params (minuend, subtrahend), got "))
    }

    @Test func withoutDeclaredNamesAnArrayIsATypeMismatch() {
        #expect(harness.outcome("named", "[42, 23]")
            == .error(code: -32602, message: "invalid params: expected an object, found an array", data: nil))
    }

    @Test func missingFieldIsNamed() {
        #expect(harness.outcome("subtract", #"{"minuend": 42}"#)
            == .error(code: -32602, message: #"invalid params: missing field "subtrahend""#, data: nil))
        #expect(harness.outcome("area", #"{"size": {"width": 2}, "tags": []}"#)
            == .error(code: -32602, message: #"invalid params: missing field "size.height""#, data: nil))
    }

    @Test func illTypedFieldIsNamedWithWhatWasFound() {
        #expect(harness.outcome("subtract", #"{"minuend": "42", "subtrahend": 23}"#)
            == .error(code: -32602, message: #"invalid params: "minuend": expected Int, found a string"#, data: nil))
        #expect(harness.outcome("area", #"{"size": {"width": 2, "height": [3]}, "tags": []}"#)
            == .error(code: -32602, message: #"invalid params: "size.height": expected Int, found an array"#, data: nil))
        #expect(harness.outcome("area", #"{"size": {"width": 2, "height": 3}, "tags": ["a", 5]}"#)
            == .error(code: -32602, message: #"invalid params: "tags[1]": expected String, found a number"#, data: nil))
        #expect(harness.outcome("subtract", #"{"minuend": null, "subtrahend": 23}"#)
            == .error(code: -32602, message: #"invalid params: "minuend": expected Int, found null"#, data: nil))
    }

    @Test func numberOutOfRangeIsInvalidParams() {
        #expect(harness.outcome("subtract", "[1.5, 2]")
            == .error(code: -32602, message: "invalid params: a number is out of range or not an integer where one is expected", data: nil))
    }

    @Test func noParamsDecodeForTypesThatNeedNone() {
        #expect(harness.outcome("ping", "null") == .result(#""pong""#))
        #expect(harness.outcome("ping", "[]") == .result(#""pong""#))
        #expect(harness.outcome("ping", "{}") == .result(#""pong""#))
        #expect(harness.outcome("touch", "null") == .result(#""touched""#))
        #expect(harness.outcome("verbose", "null") == .result("false"))
        #expect(harness.outcome("verbose", #"{"verbose": true}"#) == .result("true"))
        #expect(harness.outcome("ignore", "[1, 2, 3, 4, 5]") == .result("null"))
        #expect(harness.outcome("ignore", "null") == .result("null"))
    }

    @Test func paramsForAMethodWithoutParamsAreRefused() {
        #expect(harness.outcome("ping", "[1]")
            == .error(code: -32602, message: "invalid params: this method takes no params", data: nil))
    }

    @Test func nullForRequiredFieldsNamesTheFirstMissing() {
        #expect(harness.outcome("subtract", "null")
            == .error(code: -32602, message: #"invalid params: missing field "minuend""#, data: nil))
    }

    /// Host and SDK share one nesting limit (`JSONScanner.maximumDepth`, 512): params nested
    /// that deep decode; deeper ones (which only another module can send, the host refuses such
    /// lines) are -32602 naming the limit.
    @Test func paramsNestUpToTheSharedLimit() throws {
        let limit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(harness.outcome("ignore", limit) == .result("null"))
        #expect(harness.outcome("ignore", "[" + limit + "]")
            == .error(code: -32602, message: "invalid params: nesting deeper than 512 levels (the limit) at byte 512", data: nil))
    }

    @Test func methodsAreFoundByNameToo() {
        let (status, call) = harness.call("subtract", "[5, 3]", descriptorString: false)
        #expect(status == MH_OK)
        #expect(call.outcome == .result("2"))
        #expect(call.completions == 1)
    }
}
