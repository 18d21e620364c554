import Foundation
import ModHostTestKit
import Testing

/// A module's own error data reaches the caller lifted into `data`, beside the host's `module`
/// and `code` (MODULES.md, first paragraph): what scripts read as `data.reason`.
@Suite struct ModuleErrorTests {
    let host: HostProcess

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        host = try HostProcess(plugins: plugins)
    }

    private func failure(code: Int, data: JSON?) throws -> JSON {
        var params: [String: JSON] = ["code": .int(Int64(code))]
        if let data { params["data"] = data }
        return try host.expectFailure("p1.fail_with", .object(params))
    }

    @Test func theModulesFieldsSitBesideModuleAndCode() throws {
        let error = try failure(code: 7, data: ["reason": "no_target_available", "retryAfterMs": 1200])
        #expect(error["code"] == -32000)
        #expect(error["message"] == "failed on purpose")
        #expect(error["data"] == ["module": "p1", "code": 7, "reason": "no_target_available", "retryAfterMs": 1200])
    }

    @Test func theHostsFieldsWinAndClashingOnesStayUnderDetails() throws {
        let error = try failure(code: 7, data: ["module": "spoofed", "code": 99, "reason": "x"])
        #expect(error["data"] == ["module": "p1", "code": 7, "reason": "x", "details": ["code": 99, "module": "spoofed"]])
    }

    /// A module member named `details` is lifted like any other, unless a clash needs `details`
    /// for the clashing members: then it goes in there too, never a second `details` key.
    @Test func aModulesOwnDetailsIsNeverWrittenTwice() throws {
        #expect(try failure(code: 7, data: ["details": 1, "reason": "x"])["data"] == ["module": "p1", "code": 7, "details": 1, "reason": "x"])
        let clash = try host.request("p1.fail_with", ["code": 7, "data": ["details": 1, "code": 99]])
        let line = try #require(host.stdoutLines.last { $0.contains(#""code":99"#) })
        // One `details` in `data`, holding the clashing members and the module's own `details`.
        let nested = #""details":{"code":99,"details":1}"#
        #expect(line.contains(nested) && !line.replacingOccurrences(of: nested, with: "").contains(#""details":"#),
                "details written twice: \(line)")
        #expect(clash["error"]["data"] == ["module": "p1", "code": 7, "details": ["code": 99, "details": 1]])
    }

    @Test func dataThatIsNotAnObjectIsDetailsWhole() throws {
        #expect(try failure(code: 7, data: [1, 2])["data"] == ["module": "p1", "code": 7, "details": [1, 2]])
        #expect(try failure(code: 7, data: nil)["data"] == ["module": "p1", "code": 7])
    }

    @Test(arguments: [-32602, -32603, -32601])
    func standardCodesKeepTheirCodeAndAreLiftedAlike(code: Int) throws {
        let error = try failure(code: code, data: ["reason": "bad_window", "field": "windowMs"])
        #expect(error["code"] == .int(Int64(code)))
        #expect(error["data"] == ["module": "p1", "code": .int(Int64(code)), "field": "windowMs", "reason": "bad_window"])
    }
}
