import Foundation
import ModHostTestKit
import Testing

/// `mh_context *` is a token: a plugin thread that uses the host table after its instance was
/// destroyed gets `MH_EXPIRED` (or nothing, for `log`), never a host crash.
@Suite struct ContextLifetimeTests {
    @Test func hostFunctionsAfterDestroyAnswerExpired() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "other")
        let ghost = try TestPlugins.probe(into: TestPlugins.directory(), id: "ghost", defines: ["-DPROBE_FLAGS=0", "-DPROBE_AFTERLIFE"])
        let host = try HostProcess(plugins: plugins)
        try host.call("modules.load", ["path": .string(ghost)])
        try host.call("events.subscribe", ["topics": ["probe.*"]])
        try host.call("modules.unload", ["id": "ghost"])

        // The thread it left behind runs 200 ms after destroy and prints what it got back.
        let stderr = try host.waitForStderr(containing: "afterlife:")
        let line = try #require(stderr.split(separator: "\n").first { $0.contains("afterlife:") })
        #expect(line.hasSuffix("publish=-2 store_put=-2 store_delete=-2 timer_start=0 now_ms=-2 subscribe=-2 call=-2"), "\(line)")
        #expect(!stderr.contains("from beyond"), "a log line from a destroyed instance was written")

        // The host serves on, nothing was published or stored for the dead instance.
        #expect(try host.call("other.ping") == "pong")
        try host.call("modules.load", ["path": .string(ghost)])
        #expect(try host.call("ghost.store_get", ["key": "k"]) == .null)
        #expect(!host.stdoutLines.contains { $0.contains("probe.afterlife") })
        #expect(try host.shutdown() == 0)
    }

    @Test func anAbandonedInstanceCannotWriteOnceItsCallReturns() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "stuck", defines: ["-DPROBE_FLAGS=0"])
        let host = try HostProcess(plugins: plugins, extraArguments: ["--drain-timeout-ms", "300"])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"blocked","method":"stuck.sleep","params":[5000]}"#)
        try host.waitUntilRunning("stuck")
        try host.call("modules.unload", ["id": "stuck"])
        try host.waitForStderr(containing: "abandoned stuck")
        // When its handle returns, the abandoned instance tries to write to its store.
        try host.waitForStderr(containing: "sleep 5000: store_put returned -2")
        #expect(!host.stderrText.contains("sleep 5000: respond returned"), "a dead context's log line was written")
        let again = try TestPlugins.probe(into: TestPlugins.directory(), id: "stuck")
        try host.call("modules.load", ["path": .string(again)])
        #expect(try host.call("stuck.store_get", ["key": "slept"]) == .null)
    }
}
