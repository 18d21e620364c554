import ModHostPluginSDK
import Testing

/// A plugin that answers with `JSONValue`s, which the SDK writes with the JSON toolkit.
final class Values: Plugin {
    static let id = "values"
    static let version = "1.0.0"

    init(host: PluginHost, config: RawJSON) {}

    static func register(_ methods: inout Methods<Values>) {
        methods.add("echo") { (_, params: JSONValue) in params }
        methods.add("infinite") { _ in ["ok": 1, "bad": [.double(.infinity)]] as JSONValue }
    }
}

@Suite struct JSONResultTests {
    let harness = PluginHarness(entry: Values.pluginEntry())

    /// Params come back as they were sent: exact integers, keys sorted, strings escaped.
    @Test func aJSONValueResultIsWrittenExactly() {
        #expect(harness.outcome("echo", #"{"b": [18446744073709551615, -9223372036854775808, 1.5], "a": "q\"\u0001"}"#)
            == .result(#"{"a":"q\"\u0001","b":[18446744073709551615,-9223372036854775808,1.5]}"#))
        #expect(harness.outcome("echo", "null") == .result("null"))
    }

    /// One holding a number JSON cannot hold fails like such a `Double` does, naming where it
    /// is, instead of arriving as `null`.
    @Test func aJSONValueResultJSONCannotHoldIsInternalError() throws {
        let outcome = try #require(harness.outcome("infinite"))
        guard case .error(let code, let message, _) = outcome else {
            Issue.record("expected an error, got \(outcome)")
            return
        }
        #expect(code == -32603)
        #expect(message.hasPrefix(#"cannot encode result: "bad[0]": "#), "\(message)")
    }
}
