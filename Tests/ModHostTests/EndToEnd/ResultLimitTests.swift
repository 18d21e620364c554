import Foundation
import ModHostTestKit
import Testing

/// `--max-result-bytes`: a module's result (or error) over the limit fails that call with -32603
/// naming the limit; the host serves on.
@Suite struct ResultLimitTests {
    private func host(_ arguments: [String] = []) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        try TestPlugins.probe(into: plugins, id: "p2")
        return try HostProcess(plugins: plugins, extraArguments: arguments)
    }

    @Test func aResultOverTheConfiguredLimitFailsThatCallOnly() throws {
        let host = try host(["--max-result-bytes", "1048576"])
        let error = try host.expectFailure("p1.blob", [2_000_000])
        #expect(error["code"] == -32603)
        let message = error["message"].string ?? ""
        #expect(message.contains("2000002 bytes"), "\(message)")
        #expect(message.contains("1048576") && message.contains("--max-result-bytes"), "\(message)")
        #expect(error["data"]["module"] == "p1")
        // Under the limit, the same method answers; other modules never noticed.
        #expect(try host.call("p1.blob", [1000]).string?.count == 1000)
        #expect(try host.call("p2.ping") == "pong")
        #expect(try host.shutdown() == 0)
    }

    @Test func theDefaultLimitIs64MiB() throws {
        let host = try host()
        let error = try host.expectFailure("p1.blob", [70_000_000])
        #expect(error["code"] == -32603)
        #expect(error["message"].string?.contains("67108864") == true, "\(error)")
        #expect(try host.call("p1.ping") == "pong")
    }
}
