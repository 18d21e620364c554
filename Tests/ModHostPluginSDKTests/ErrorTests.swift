import CModHost
import Foundation
import ModHostPluginSDK
import Testing

@Suite struct ErrorTests {
    let harness = PluginHarness(entry: Arithmetic.pluginEntry())

    @Test func pluginErrorPassesThroughWithData() throws {
        let outcome = try #require(harness.outcome("reject"))
        guard case .error(let code, let message, let data) = outcome else {
            Issue.record("expected an error, got \(outcome)")
            return
        }
        #expect(code == 404)
        #expect(message == "no such thing")
        let object = try JSONDecoder().decode([String: Int].self, from: Data(try #require(data).utf8))
        #expect(object == ["id": 7])
    }

    @Test func otherErrorsUseCodeOneAndTheirDescription() {
        #expect(harness.outcome("crash") == .error(code: 1, message: "the thing is gone", data: nil))
    }

    @Test func unencodableResultIsInternalError() throws {
        let outcome = try #require(harness.outcome("nan"))
        guard case .error(let code, let message, _) = outcome else {
            Issue.record("expected an error, got \(outcome)")
            return
        }
        #expect(code == -32603)
        #expect(message.hasPrefix("cannot encode result: "))
    }

    @Test func helpersCarryTheStandardCodes() {
        #expect(PluginError.invalidParams("x").code.rawValue == -32602)
        #expect(PluginError.internalError("x").code.rawValue == -32603)
        #expect(PluginError.failed("x").code.rawValue == 1)
        #expect(PluginError(code: 7, "m", data: RawJSON("[1]")).data?.text == "[1]")
    }

    @Test func aReasonAndItsFieldsTravelAsTheErrorData() throws {
        let error = PluginError.reason("no_target_available", "all cooling down", ["retryAfterMs": 1200, "reason": "ignored"])
        #expect(error.code == .failed)
        #expect(error.message == "all cooling down")
        let data = try JSONDecoder().decode([String: JSONValue].self, from: Data(try #require(error.data).text.utf8))
        #expect(data == ["reason": "no_target_available", "retryAfterMs": 1200])
        #expect(PluginError.reason("bad_window", "no", code: .invalidParams).code == .invalidParams)
    }

    @Test func everyCallIsCompletedExactlyOnce() {
        for method in ["reject", "crash", "nan", "ping"] {
            let (status, call) = harness.call(method)
            #expect(status == MH_OK)
            #expect(call.completions == 1, "\(method)")
        }
    }
}
