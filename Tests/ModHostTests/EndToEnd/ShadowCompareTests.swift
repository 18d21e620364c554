import Foundation
import ModHostTestKit
import Testing

/// The shadow report's latencies and match rates per method, and the comparison a swap can
/// tune (`compare: {<method>: {ignore, sample}}`, `keepSamples`), through the real binary.
@Suite struct ShadowCompareTests {
    let host: HostProcess
    let v2: String

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        v2 = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so")
        host = try HostProcess(plugins: plugins)
    }

    @discardableResult
    private func startShadow(_ extra: [String: JSON] = [:]) throws -> JSON {
        var params: [String: JSON] = ["id": "probe", "path": .string(v2), "mode": "shadow"]
        params.merge(extra) { _, new in new }
        return try host.call("modules.swap", .object(params))
    }

    /// The shadow report once every mirrored call is compared.
    private func settledReport() throws -> JSON {
        var report: JSON = .null
        #expect(try Poll.until {
            report = try host.call("modules.describe", ["id": "probe"])["shadow"]
            return report["pending"] == 0
        }, "mirrored calls still pending: \(report)")
        return report
    }

    private func byMethod(_ report: JSON) -> [String: JSON] {
        Dictionary(uniqueKeysWithValues: (report["methods"].array ?? []).map { ($0["method"].string ?? "", $0) })
    }

    @Test func theReportHasBothSidesLatencyAndTheMatchRatePerMethod() throws {
        try startShadow()
        for _ in 0..<3 { try host.call("probe.ping") }
        try host.call("probe.version")  // "1.0.0" against "2.0.0"
        for _ in 0..<2 { try host.call("probe.sleep", [20]) }
        let report = try settledReport()
        #expect(report["mirrored"] == 6)
        #expect(report["matched"] == 5)
        #expect(report["differed"] == 1)
        #expect(report["matchRate"].double.map { abs($0 - 5.0 / 6.0) < 1e-9 } == true, "\(report)")
        let methods = byMethod(report)
        #expect(methods["ping"]?["matchRate"] == 1.0)
        #expect(methods["ping"]?["mirrored"] == 3)
        #expect(methods["version"]?["matchRate"] == 0.0)
        #expect(methods["version"]?["differed"] == 1)
        let sleep = try #require(methods["sleep"])
        for side in ["serving", "shadow"] {
            let p50 = try #require(sleep["\(side)P50Us"].int, "\(sleep)")
            let p99 = try #require(sleep["\(side)P99Us"].int)
            #expect((20_000..<200_000).contains(p50), "\(side) p50 \(p50) µs for a 20 ms sleep")
            #expect(p99 >= p50)
        }
        // The shadow's generation has its own series in modules.metrics too (its mirrored calls).
        let generations = try host.call("modules.metrics", ["id": "probe"])["modules"][0]["generations"].array ?? []
        let shadow = try #require(generations.first { $0["shadow"] == true }, "\(generations)")
        #expect(shadow["version"] == "2.0.0" && shadow["current"] == false)
        #expect(shadow["methods"].array?.first { $0["method"] == "ping" }?["calls"] == 3)
    }

    @Test func ignoredPointersDoNotCountAsDifferences() throws {
        // The shadow's config differs from the serving one's ({}) only in /generatedAt;
        // probe.config answers the config.
        try startShadow(["config": ["generatedAt": 2], "compare": ["config": ["ignore": ["/generatedAt"]]]])
        #expect(try host.call("probe.config") == [:])
        var report = try settledReport()
        #expect(report["matched"] == 1 && report["differed"] == 0, "\(report)")
        #expect(report["compare"]["config"]["ignore"] == ["/generatedAt"])
        try host.call("modules.rollback", ["id": "probe"])

        // Ignoring another member leaves the difference.
        try startShadow(["config": ["generatedAt": 2, "n": 1], "compare": ["config": ["ignore": ["/n"]]]])
        try host.call("probe.config")
        report = try settledReport()
        #expect(report["differed"] == 1, "\(report)")
        #expect(report["samples"][0]["shadow"] == #"{"generatedAt":2,"n":1}"#)
        try host.call("modules.rollback", ["id": "probe"])

        // Without ignore, byte for byte.
        try startShadow(["config": ["generatedAt": 2]])
        try host.call("probe.config")
        #expect(try settledReport()["differed"] == 1)
    }

    @Test func sampleZeroComparesNothingAndAHalfEverySecondCall() throws {
        try startShadow(["compare": ["ping": ["sample": 0], "seq": ["sample": 0.5]]])
        for _ in 0..<4 { try host.call("probe.ping") }
        for n in 0..<6 { try host.call("probe.seq", [.int(Int64(n))]) }
        try host.call("probe.whoami")  // no rule: mirrored
        let report = try settledReport()
        let methods = byMethod(report)
        #expect(methods["ping"]?["mirrored"] == 0)
        #expect(methods["ping"]?["skipped"] == 4)
        #expect(methods["ping"]?["matchRate"] == .null, "nothing compared")
        #expect(methods["seq"]?["mirrored"] == 3)
        #expect(methods["seq"]?["skipped"] == 3)
        #expect(methods["whoami"]?["mirrored"] == 1)
        #expect(report["mirrored"] == 4)
        #expect(report["skipped"] == 7)
        #expect(report["matched"] == 4)
        // The shadow's own generation saw only the mirrored calls.
        let generations = try host.call("modules.metrics", ["id": "probe"])["modules"][0]["generations"].array ?? []
        let shadow = try #require(generations.first { $0["shadow"] == true })
        #expect(shadow["methods"].array?.contains { $0["method"] == "ping" } == false)
    }

    @Test func keepSamplesCapsTheKeptSamples() throws {
        try startShadow(["keepSamples": 2])
        for _ in 0..<5 { try host.call("probe.version") }
        var report = try settledReport()
        #expect(report["differed"] == 5)
        #expect(report["samples"].array?.count == 2)
        #expect(report["keepSamples"] == 2)
        try host.call("modules.rollback", ["id": "probe"])
        // The default keeps 5.
        try startShadow()
        for _ in 0..<7 { try host.call("probe.version") }
        report = try settledReport()
        #expect(report["differed"] == 7)
        #expect(report["samples"].array?.count == 5)
    }

    @Test func badCompareParamsAreRefusedNamingTheField() throws {
        func refused(_ extra: [String: JSON], _ text: String) throws {
            let error = try host.expectFailure("modules.swap", .object(["id": "probe", "path": .string(v2), "mode": "shadow"].merging(extra) { _, new in new }))
            #expect(error["code"] == -32602, "\(error)")
            #expect(error["message"].string?.contains(text) == true, "\(error)")
        }
        try refused(["compare": ["nosuch": [:]]], #""compare": module probe has no method "nosuch""#)
        try refused(["compare": ["ping": ["sample": 1.5]]], #""compare.ping.sample" must be a share from 0 to 1"#)
        try refused(["compare": ["ping": ["ignore": ["generatedAt"]]]], #""compare.ping.ignore[0]" must be a JSON pointer starting with "/""#)
        try refused(["compare": ["ping": ["ignor": ["/a"]]]], #""compare.ping" has an unknown member "ignor"; a rule takes "ignore" and "sample""#)
        try refused(["compare": ["ping": ["ignore": "/a"]]], #""compare.ping.ignore" must be an array of JSON pointers"#)
        try refused(["compare": ["ping": ["sample": "half"]]], #""compare.ping.sample" must be a share from 0 to 1 (0.5: every second call), got "half""#)
        try refused(["compare": ["ping", "seq"]], #""compare" must be an object of rules by method name"#)
        try refused(["keepSamples": -1], #""keepSamples" must be 0 to 1000"#)
        let swap = try host.expectFailure("modules.swap", ["id": "probe", "path": .string(v2), "keepSamples": 3])
        #expect(swap["code"] == -32602)
        #expect(swap["message"].string?.contains("give them with mode \"shadow\"") == true, "\(swap)")
        // Nothing started; the host serves on, and a good shadow starts.
        #expect(try host.call("modules.describe", ["id": "probe"])["shadow"] == .null)
        #expect(try host.call("probe.ping") == "pong")
        try startShadow(["compare": ["*": ["sample": 1]]])
    }
}
