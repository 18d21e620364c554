import Foundation
import ModHostTestKit
import Testing

/// The default jobs: with session and token loaded they call them (harmless: nothing to evict,
/// clean up or refresh); without them each run is `skipped`, nothing logged above debug; config
/// changes or disables each.
@Suite struct JobDefaultsTests {
    typealias B = QueueBench
    static let t0 = QueueBench.start

    @Test func withSessionAndTokenLoadedTheDefaultJobsCallThem() throws {
        let auth = try TemporaryDirectory.make(prefix: "task-auth")
        let harness = try ModuleHarness(modules: ["libTask.so", "libSession.so", "libToken.so"], config: ["token": ["authDir": .string(auth)]])
        let host = harness.host
        try harness.advance(by: B.minute)
        let token = try Self.waitForRun(host, "token-refresh", 1, "succeeded")
        #expect(token["lastResult"]["result"] == ["refreshed": [], "failed": []], "\(token)")
        try harness.advance(by: B.hour - B.minute)
        let evict = try Self.waitForRun(host, "session-evict", 1, "succeeded")
        #expect(evict["lastResult"]["result"] == ["evicted": []] && evict["schedule"] == "@hourly" && evict["default"] == true, "\(evict)")
        try harness.advance(by: 5 * B.hour)
        let cleanup = try Self.waitForRun(host, "session-cleanup", 1, "succeeded")
        #expect(cleanup["lastResult"]["result"] == ["removed": []] && cleanup["runs"][0]["scheduledAt"] == .int(Self.t0 + 6 * B.hour), "\(cleanup)")
    }

    @Test func withoutTheirModulesTheDefaultJobsRecordSkippedRuns() throws {
        let bench = try QueueBench(defaultJobs: true)
        try bench.advance(by: B.hour)
        let token = try bench.waitForRun("token-refresh", 60, "skipped")
        #expect(token["runs"][0]["note"] == "its module is not loaded", "\(token)")
        let evict = try bench.waitForRun("session-evict", 1, "skipped")
        #expect(evict["lastResult"]["status"] == "skipped", "\(evict)")
        // Nothing above debug about them (the host logs at info).
        let log = bench.host.stderrText
        #expect(!log.contains("token.refreshDue") && !log.contains("session.evictInactive") && !log.contains("token-refresh"), "\(log)")
        #expect(!log.contains("error") && !log.contains("warning"), "\(log)")
    }

    @Test func configChangesAndDisablesDefaultJobs() throws {
        let bench = try QueueBench(config: ["defaultJobs": ["token-refresh": ["enabled": false],
                                                             "session-evict": ["schedule": "*/30 * * * *", "params": ["hours": 1]]]],
                                   defaultJobs: true)
        let jobs = try bench.host.call("task.list")["jobs"]
        let byName = Dictionary(uniqueKeysWithValues: (jobs.array ?? []).map { ($0["name"].string ?? "", $0) })
        #expect(byName["token-refresh"]?["enabled"] == false && byName["token-refresh"]?["nextRunAt"] == .null, "\(jobs)")
        #expect(byName["session-evict"]?["schedule"] == "*/30 * * * *" && byName["session-evict"]?["call"]["params"] == ["hours": 1], "\(jobs)")
        #expect(byName["session-evict"]?["nextRunAt"] == .int(Self.t0 + 30 * B.minute))
        // task.disable of a default job works; task.remove is refused.
        #expect(try bench.host.call("task.disable", ["name": "session-cleanup"])["enabled"] == false)
        #expect(try bench.host.expectFailure("task.remove", ["name": "session-cleanup"])["code"] == -32602)
    }

    @Test func aBadDefaultJobsConfigIsRefusedNamingTheKey() throws {
        let harness = try ModuleHarness(modules: ["libTask.so"], config: ["task": ["defaultJobs": ["token-refresh": ["schedule": "* * *"]]]])
        try harness.host.waitForStderr(containing: "task.defaultJobs.token-refresh: schedule \"* * *\": at position 6")
    }

    static func waitForRun(_ host: HostProcess, _ name: String, _ run: Int64, _ status: String) throws -> JSON {
        var last = JSON.null
        let reached = try Poll.until {
            last = try host.call("task.list", ["name": .string(name)])["jobs"][0]
            return last["runs"][0]["run"] == .int(run) && last["runs"][0]["status"].string == status
        }
        guard reached else { throw HostProcessError("job \(name) run \(run) never reached \(status): \(last)", stderr: host.stderrText) }
        return last
    }
}
