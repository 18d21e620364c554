import Foundation
import ModHostTestKit
import Testing

/// Shadow mode through the real binary: a new version runs beside the serving one, gets every
/// call mirrored, has its differing results counted and sampled, and is then promoted or
/// discarded, without side effects of its own on the store or the event bus.
@Suite struct ShadowTests {
    let host: HostProcess
    let v2: String

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let elsewhere = try TestPlugins.directory()
        v2 = try TestPlugins.probe(into: elsewhere, version: "2.0.0", name: "libprobe-2.so")
        host = try HostProcess(plugins: plugins)
    }

    @discardableResult
    private func startShadow() throws -> JSON {
        try host.call("modules.swap", ["id": "probe", "path": .string(v2), "mode": "shadow"])
    }

    private func shadowReport() throws -> JSON {
        try host.call("modules.describe", ["id": "probe"])["shadow"]
    }

    /// Mirrored calls complete on the shadow's own mailbox; wait until none is pending.
    private func settledReport() throws -> JSON {
        let deadline = Date(timeIntervalSinceNow: 10)
        while true {
            let report = try shadowReport()
            if report["pending"] == 0 || Date() > deadline { return report }
            usleep(5_000)
        }
    }

    @Test func mirrorsCallsAndCountsDifferences() throws {
        let started = try startShadow()
        #expect(started["mode"] == "shadow")
        #expect(started["serving"] == "1.0.0")
        #expect(started["shadow"] == "2.0.0")
        // The serving version answers.
        #expect(try host.call("probe.version") == "1.0.0")
        #expect(try host.call("probe.ping") == "pong")
        #expect(try host.call("probe.seq", [7]) == 7)
        let report = try settledReport()
        #expect(report["version"] == "2.0.0")
        #expect(report["mirrored"] == 3)
        #expect(report["matched"] == 2)
        #expect(report["differed"] == 1)
        let sample = report["samples"][0]
        #expect(sample["method"] == "version")
        #expect(sample["serving"] == #""1.0.0""#)
        #expect(sample["shadow"] == #""2.0.0""#)
    }

    @Test func theShadowHasNoSideEffects() throws {
        try host.call("events.subscribe", ["topics": ["probe.timer"]])
        try startShadow()
        try host.call("probe.store_put", ["key": "k", "value": "serving"])
        #expect(try host.call("probe.store_get", ["key": "k"]) == "serving")
        // Discard the shadow: the store holds what the serving instance wrote, once.
        try host.call("modules.rollback", ["id": "probe"])
        #expect(try host.call("modules.describe", ["id": "probe"])["shadow"] == .null)
        #expect(try host.call("probe.store_list", ["prefix": ""]) == [["key": "k", "value": "serving"]])
        // A shadow's calls to other modules are refused rather than made twice.
        try startShadow()
        #expect(try host.call("probe.call", ["method": "probe.ping"]) == "pong")
        let report = try settledReport()
        #expect(report["differed"] == 1, "the shadow's forwarded call must have been refused")
    }

    @Test func promoteSwapsTheShadowVersionInWithTheServingState() throws {
        try host.call("probe.store_put", ["key": "before", "value": "1"])
        try startShadow()
        let promoted = try host.call("modules.promote", ["id": "probe"])
        #expect(promoted["from"] == "1.0.0")
        #expect(promoted["to"] == "2.0.0")
        #expect(try host.call("probe.version") == "2.0.0")
        #expect(try host.call("probe.store_get", ["key": "before"]) == "1")
        #expect(try host.call("modules.describe", ["id": "probe"])["shadow"] == .null)
        // The replaced generation is kept: rollback returns to it.
        #expect(try host.call("modules.rollback", ["id": "probe"])["to"] == "1.0.0")
        #expect(try host.call("probe.version") == "1.0.0")
    }

    @Test func oneShadowAtATimeAndNoPlainSwapBesideIt() throws {
        try startShadow()
        #expect(try host.request("modules.swap", ["id": "probe", "path": .string(v2), "mode": "shadow"])["error"]["code"] == -32005)
        #expect(try host.request("modules.swap", ["id": "probe", "path": .string(v2)])["error"]["code"] == -32005)
        #expect(try host.request("modules.swap", ["id": "probe", "path": .string(v2), "mode": "mirror"])["error"]["code"] == -32602)
        #expect(try host.request("modules.promote", ["id": "nosuch"])["error"]["code"] == -32005)
        #expect(try host.call("probe.ping") == "pong")
    }
}
