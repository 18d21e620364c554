import Foundation
import ModHostTestKit
import Testing

/// Gates through the real binary, on the manual clock: a shadow or canary with `gates` is
/// checked every 60 s of host time; once it has `minCalls` calls, passing promotes (a canary
/// steps up first), failing rolls back with `modules.rolled_back` and a report of every
/// differing call in `<state>/reports/<id>-<generation>.jsonl`.
@Suite struct GateTests {
    static let multiInstance = "-DPROBE_FLAGS=(MH_FLAG_UNLOADABLE|MH_FLAG_MULTI_INSTANCE)"
    let host: HostProcess
    let builds: String

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, defines: [Self.multiInstance])
        builds = try TestPlugins.directory()
        host = try HostProcess(plugins: plugins, extraArguments: ["--manual-clock"])
        try host.call("events.subscribe", ["topics": ["modules.rolled_back", "modules.gate_passed"]])
    }

    /// Builds version 2.0.0 of the probe with more switches.
    private func v2(_ defines: [String] = [], name: String) throws -> String {
        try TestPlugins.probe(into: builds, version: "2.0.0", name: name, defines: [Self.multiInstance] + defines)
    }

    /// Sends `count` seq calls in batches and returns how many failed with -32000.
    @discardableResult
    private func seqCalls(_ count: Int, session: ((Int) -> String)? = nil) throws -> Int {
        var failed = 0
        for start in stride(from: 0, to: count, by: 250) {
            let range = start..<min(start + 250, count)
            let batch = JSON.array(range.map { n -> JSON in
                let params: JSON = session.map { .object(["sessionId": .string($0(n))]) } ?? .array([.int(Int64(n))])
                return .object(["jsonrpc": "2.0", "id": .int(Int64(n)), "method": session == nil ? "probe.seq" : "probe.version", "params": params])
            })
            try host.send(raw: batch.text)
            let reply = try JSON(parsing: try host.nextLine())
            failed += (reply.array ?? []).filter { $0["error"]["code"] == -32000 }.count
        }
        return failed
    }

    private func describe() throws -> JSON { try host.call("modules.describe", ["id": "probe"]) }

    /// Mirrored calls complete on the shadow's own mailbox: wait until none is pending.
    private func settleShadow() throws {
        let settled = try Poll.until { try describe()["shadow"]["pending"] == 0 }
        #expect(settled, "the shadow's mirrored calls did not complete")
    }

    private func reportLines(_ path: String) throws -> [JSON] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSON(parsing: String($0)) }
    }

    @Test func aCanaryThatFailsFivePercentIsRolledBackAtTheFirstCheckPastMinCalls() throws {
        let failing = try v2(["-DPROBE_FAIL_EVERY=20"], name: "libprobe-failing.so")
        let started = try host.call("modules.swap", [
            "id": "probe", "path": .string(failing), "mode": "canary", "percent": 50,
            "gates": ["minCalls": 200, "maxErrorRateDelta": 0.01],
        ])
        #expect(started["generation"] == 2)
        var failures = try seqCalls(100)
        _ = try host.advanceClock(by: 60_000)
        // Fewer than minCalls on the canary: the check waits.
        let waiting = try describe()["canary"]["gates"]["lastCheck"]
        #expect(waiting["verdict"] == "waiting", "\(waiting)")
        #expect(try describe()["canary"]["version"] == "2.0.0")
        failures += try seqCalls(600)
        #expect(failures > 0)
        _ = try host.advanceClock(by: 59_999)
        #expect(try describe()["canary"]["version"] == "2.0.0", "no check before 60 s have passed")
        _ = try host.advanceClock(by: 1)
        let event = try host.nextEvent(topic: "modules.rolled_back")["data"]
        #expect(event["id"] == "probe")
        #expect(event["mode"] == "canary")
        #expect(event["generation"] == 2)
        #expect(event["action"] == "rolled_back")
        #expect(event["reason"].string?.contains("error rate") == true, "\(event)")
        #expect(event["metrics"]["errors"] == .int(Int64(failures)))
        #expect((event["metrics"]["calls"].int ?? 0) >= 200)
        #expect(event["metrics"]["baselineErrors"] == 0)
        let report = try #require(event["report"].string)
        #expect(report == "\(host.stateDirectory)/reports/probe-2.jsonl")
        let lines = try reportLines(report)
        #expect(lines.count == failures)
        #expect(lines.allSatisfy { $0["method"] == "seq" && $0["error"].string?.contains("-32000") == true }, "\(lines.first?.text ?? "")")
        // Rolled back: the old generation takes every call.
        #expect(try describe()["canary"] == .null)
        #expect(try seqCalls(200) == 0)
        #expect(try host.call("probe.version") == "1.0.0")
    }

    @Test func aMatchingShadowIsPromotedByItsGate() throws {
        let matching = try v2(name: "libprobe-matching.so")
        try host.call("modules.swap", [
            "id": "probe", "path": .string(matching), "mode": "shadow",
            "gates": ["minCalls": 50, "maxDiffer": 0, "maxErrorRateDelta": 0, "maxP95Ratio": 100],
        ])
        try seqCalls(60)
        try settleShadow()
        _ = try host.advanceClock(by: 60_000)
        let event = try host.nextEvent(topic: "modules.gate_passed")["data"]
        #expect(event["action"] == "promoted")
        #expect(event["mode"] == "shadow")
        #expect(event["metrics"]["calls"] == 60)
        #expect(event["metrics"]["differed"] == 0)
        #expect(try host.call("probe.version") == "2.0.0")
        #expect(try describe()["shadow"] == .null)
        #expect(try describe()["previousVersion"] == "1.0.0")
    }

    @Test func aShadowThatDiffersIsDiscardedWithEveryDifferenceInTheReport() throws {
        let failing = try v2(["-DPROBE_FAIL_EVERY=20"], name: "libprobe-failing.so")
        try host.call("modules.swap", [
            "id": "probe", "path": .string(failing), "mode": "shadow", "keepSamples": 2,
            "gates": ["minCalls": 100, "maxDiffer": 0.01],
        ])
        #expect(try seqCalls(400) == 0, "the serving version answers")
        try settleShadow()
        // An earlier run's report of generation 2 (generations restart at 1) is not overwritten.
        let reports = "\(host.stateDirectory)/reports"
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        try "earlier\n".write(toFile: "\(reports)/probe-2.jsonl", atomically: true, encoding: .utf8)
        _ = try host.advanceClock(by: 60_000)
        let event = try host.nextEvent(topic: "modules.rolled_back")["data"]
        #expect(event["report"].string == "\(reports)/probe-2-2.jsonl")
        #expect(try String(contentsOfFile: "\(reports)/probe-2.jsonl", encoding: .utf8) == "earlier\n")
        #expect(event["mode"] == "shadow")
        #expect(event["metrics"]["differed"] == 20)
        #expect(event["reason"].string?.contains("maxDiffer") == true, "\(event)")
        // keepSamples bounds what describe shows, not the report.
        let lines = try reportLines(try #require(event["report"].string))
        #expect(lines.count == 20)
        #expect(lines.allSatisfy { $0["serving"].string != nil && $0["shadow"].string?.contains("-32000") == true })
        #expect(try describe()["shadow"] == .null)
        #expect(try host.call("probe.version") == "1.0.0")
    }

    @Test func aSlowerCanaryFailsItsP95Gate() throws {
        let slow = try v2(["-DPROBE_SEQ_SLEEP_US=3000"], name: "libprobe-slow.so")
        try host.call("modules.swap", [
            "id": "probe", "path": .string(slow), "mode": "canary", "percent": 50,
            "gates": ["minCalls": 20, "maxP95Ratio": 1.5],
        ])
        try seqCalls(120)
        _ = try host.advanceClock(by: 60_000)
        let event = try host.nextEvent(topic: "modules.rolled_back")["data"]
        #expect(event["reason"].string?.contains("maxP95Ratio") == true, "\(event)")
        #expect((event["metrics"]["p95Us"].int ?? 0) >= 3000)
        #expect(try host.call("probe.version") == "1.0.0")
    }

    @Test func aCanaryStepsThroughItsPercentagesThenIsPromoted() throws {
        let good = try v2(name: "libprobe-good.so")
        try host.call("modules.swap", [
            "id": "probe", "path": .string(good), "mode": "canary", "percent": 5, "stickyKey": "/sessionId",
            "gates": ["minCalls": 20, "maxErrorRateDelta": 0.01, "steps": [20, 60]],
        ])
        var round = 0
        func window() throws {
            round += 1
            let r = round
            try seqCalls(1_000) { "r\(r)-s\($0)" }
            _ = try host.advanceClock(by: 60_000)
        }
        try window()
        var event = try host.nextEvent(topic: "modules.gate_passed")["data"]
        #expect(event["action"] == "stepped")
        #expect(event["percent"] == 20)
        #expect(try describe()["canary"]["percent"] == 20)
        try window()
        event = try host.nextEvent(topic: "modules.gate_passed")["data"]
        #expect(event["percent"] == 60)
        try window()
        event = try host.nextEvent(topic: "modules.gate_passed")["data"]
        #expect(event["action"] == "promoted")
        #expect(try describe()["canary"] == .null)
        #expect(try host.call("probe.version", ["sessionId": "anyone"]) == "2.0.0")
        // The gate's choice is pinned: a restart brings 2.0.0 back.
        #expect(try describe()["pin"]["chosenBy"] == "gate")
    }

    @Test func steppingByHandKeepsTheGateWithANewWindow() throws {
        let good = try v2(name: "libprobe-good.so")
        try host.call("modules.swap", [
            "id": "probe", "path": .string(good), "mode": "canary", "percent": 50, "gates": ["minCalls": 100],
        ])
        try seqCalls(400)  // about 200 on the canary
        try host.call("modules.canary", ["id": "probe", "percent": 60])
        _ = try host.advanceClock(by: 60_000)
        let check = try describe()["canary"]["gates"]["lastCheck"]
        #expect(check["verdict"] == "waiting", "the calls before the step do not count for the new share: \(check)")
        #expect(try describe()["canary"]["percent"] == 60)
        try seqCalls(400)
        _ = try host.advanceClock(by: 60_000)
        let event = try host.nextEvent(topic: "modules.gate_passed")["data"]
        #expect(event["action"] == "promoted", "60 is past the last default step below 100: \(event)")
        #expect(try host.call("probe.version") == "2.0.0")
    }

    @Test func aRollbackThatCannotDrainIsTriedAgainAtTheNextCheck() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, defines: [Self.multiInstance])
        let host = try HostProcess(plugins: plugins, extraArguments: ["--manual-clock", "--drain-timeout-ms", "200"])
        try host.call("events.subscribe", ["topics": ["modules.rolled_back"]])
        let failing = try v2(["-DPROBE_FAIL_EVERY=1"], name: "libprobe-failing.so")
        try host.call("modules.swap", [
            "id": "probe", "path": .string(failing), "mode": "canary", "percent": 99, "stickyKey": "/0",
            "gates": ["minCalls": 5, "maxErrorRateDelta": 0.01],
        ])
        for n in 0..<40 { _ = try host.request("probe.seq", [.int(Int64(n))]) }
        // A call that holds the module's mailbox past the drain timeout when the check comes.
        try host.send(raw: #"{"jsonrpc":"2.0","id":"slow","method":"probe.sleep","params":[5000]}"#)
        try host.waitUntilRunning("probe")
        _ = try host.advanceClock(by: 60_000)
        try host.waitForStderr(containing: "its rollback failed (tried again at the next check)")
        #expect(try host.call("modules.describe", ["id": "probe"])["canary"]["version"] == "2.0.0", "still running: the rollback failed")
        #expect(!host.unreadLines.contains { $0.contains("modules.rolled_back") }, "no event before the rollback is made")
        #expect(!FileManager.default.fileExists(atPath: "\(host.stateDirectory)/reports/probe-2.jsonl"), "nor a report")
        _ = try host.response(id: "slow", timeout: 30)
        _ = try host.advanceClock(by: 60_000)
        let event = try host.nextEvent(topic: "modules.rolled_back")["data"]
        #expect(event["action"] == "rolled_back")
        #expect(try host.call("modules.describe", ["id": "probe"])["canary"] == .null)
        #expect(try host.call("probe.version") == "1.0.0")
    }

    /// The gate passes a shadow while a call holds the serving module past the drain timeout:
    /// the promotion fails with the shadow still in place, and the next check promotes it.
    @Test func aPromotionThatCannotDrainKeepsTheShadowAndIsTriedAgain() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, defines: [Self.multiInstance])
        let host = try HostProcess(plugins: plugins, extraArguments: ["--manual-clock", "--drain-timeout-ms", "200"])
        try host.call("events.subscribe", ["topics": ["modules.gate_passed"]])
        try host.call("modules.swap", [
            "id": "probe", "path": .string(try v2(name: "libprobe-matching.so")), "mode": "shadow", "gates": ["minCalls": 20],
        ])
        for n in 0..<30 { _ = try host.request("probe.seq", [.int(Int64(n))]) }
        #expect(try Poll.until { try host.call("modules.describe", ["id": "probe"])["shadow"]["pending"] == 0 })
        try host.send(raw: #"{"jsonrpc":"2.0","id":"slow","method":"probe.sleep","params":[5000]}"#)
        try host.waitUntilRunning("probe")
        _ = try host.advanceClock(by: 60_000)
        try host.waitForStderr(containing: "the gate passed the shadow but its promotion failed (tried again at the next check)")
        let shadow = try host.call("modules.describe", ["id": "probe"])["shadow"]
        #expect(shadow["version"] == "2.0.0", "the shadow is still there: \(shadow)")
        #expect(!host.unreadLines.contains { $0.contains("modules.gate_passed") })
        _ = try host.response(id: "slow", timeout: 30)
        _ = try host.advanceClock(by: 60_000)
        let event = try host.nextEvent(topic: "modules.gate_passed")["data"]
        #expect(event["action"] == "promoted")
        #expect(try host.call("probe.version") == "2.0.0")
    }

    @Test func gatesOnACanaryNeedMetrics() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, defines: [Self.multiInstance])
        let host = try HostProcess(plugins: plugins, extraArguments: ["--manual-clock", "--no-metrics"])
        let error = try host.request("modules.swap", [
            "id": "probe", "path": .string(try v2(name: "libprobe-nometrics.so")), "mode": "canary", "percent": 10, "gates": ["minCalls": 5],
        ])["error"]
        #expect(error["code"] == -32005, "\(error)")
        #expect(error["message"].string?.contains("--no-metrics") == true, "\(error)")
        #expect(try host.call("modules.describe", ["id": "probe"])["canary"] == .null)
    }

    @Test func badGatesAreRefusedWithTheField() throws {
        let build = try v2(name: "libprobe-gates.so")
        func refused(_ mode: String, _ gates: JSON, percent: Int? = nil) throws -> String {
            var params: [String: JSON] = ["id": "probe", "path": .string(build), "mode": .string(mode), "gates": gates]
            if let percent { params["percent"] = .int(Int64(percent)) }
            let error = try host.request("modules.swap", .object(params))["error"]
            #expect(error["code"] == -32602, "\(error)")
            return error["message"].string ?? ""
        }
        #expect(try refused("shadow", ["minCallz": 1]).contains("minCallz"))
        #expect(try refused("shadow", ["minCalls": 0]).contains("gates.minCalls"))
        #expect(try refused("shadow", ["maxErrorRateDelta": 2]).contains("gates.maxErrorRateDelta"))
        #expect(try refused("shadow", ["steps": [50]]).contains("canary"))
        #expect(try refused("canary", ["maxDiffer": 0.1], percent: 10).contains("shadow"))
        #expect(try refused("canary", ["steps": [50, 20]], percent: 10).contains("gates.steps"))
        #expect(try refused("swap", ["minCalls": 1]).contains("shadow or a canary"))
        #expect(try describe()["shadow"] == .null)
        #expect(try describe()["canary"] == .null)
    }
}
