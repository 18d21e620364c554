import Foundation
import ModHostTestKit
import Testing

/// Jobs through the real host, libTask.so and the `target` fixture module, on the manual clock:
/// days of schedule crossed with `clock.advance`, a publish job's event, the methods, overlap
/// with a slow target, the last 20 runs, and bad params refused while the host keeps serving.
@Suite struct JobTests {
    typealias B = QueueBench
    static let t0 = QueueBench.start  // 2026-01-01T00:00:00Z, a Thursday

    @Test func aDailyJobInBerlinCallsTheTargetEachDay() throws {
        // Without the every-minute token job (its module is absent here): the results of three
        // days would be 4,320 skipped runs, and compaction would drop the report's tasks.
        let bench = try QueueBench(config: ["defaultJobs": ["token-refresh": ["enabled": false]]], defaultJobs: true)
        let registered = try bench.register("report", "0 30 9 * * *", call: "target.ok", ["key": "d"], ["timezone": "Europe/Berlin"])
        // 09:30 CET is 08:30Z.
        #expect(registered["nextRunAt"] == .int(Self.t0 + 8 * B.hour + 30 * B.minute), "\(registered)")
        // Each advance ends at a fire time, and the run's call (on the host's threads) ends
        // before the clock moves on: an advance past it would let its 10-minute timeout pass.
        try bench.advance(by: 8 * B.hour + 30 * B.minute)
        for day in 1...3 {
            if day > 1 { try bench.advance(by: B.day) }
            try bench.waitForCalls("d", Int64(day))
            try bench.waitForRun("report", Int64(day), "succeeded")
        }
        try bench.advance(by: B.day - 8 * B.hour - 30 * B.minute)
        let job = try bench.job("report")
        let scheduled = job["runs"].array?.map { $0["scheduledAt"] }
        #expect(scheduled == [2, 1, 0].map { .int(Self.t0 + $0 * B.day + 8 * B.hour + 30 * B.minute) }, "\(job)")
        #expect(job["lastResult"]["result"] == ["key": "d"] && job["lastResult"]["status"] == "succeeded", "\(job)")
        #expect(job["nextRunAt"] == .int(Self.t0 + 3 * B.day + 8 * B.hour + 30 * B.minute))
        // Each run is a queue task that says which job and time it stands for.
        let task = try bench.task(job["runs"][0]["taskId"])
        #expect(task["job"] == "report" && task["scheduledAtMs"] == job["runs"][0]["scheduledAt"] && task["status"] == "succeeded", "\(task)")
    }

    @Test func aPublishJobIsSeenByASubscriber() throws {
        let bench = try QueueBench()
        try bench.host.call("events.subscribe", ["topics": ["reports.*"]])
        try bench.host.call("task.register", ["name": "beat", "schedule": "* * * * *", "publish": ["topic": "reports.due", "data": ["n": 1]]])
        try bench.advance(by: B.minute)
        let event = try bench.host.nextEvent(topic: "reports.due")
        #expect(event["data"] == ["n": 1], "\(event)")
        let job = try bench.waitForRun("beat", 1, "succeeded")
        #expect(job["publish"] == ["topic": "reports.due", "data": ["n": 1]] && job["runs"][0]["scheduledAt"] == .int(Self.t0 + B.minute), "\(job)")
    }

    @Test func enableDisableRemoveAndRunNow() throws {
        let bench = try QueueBench()
        let registered = try bench.register("manual", "@hourly", call: "target.ok", ["key": "m"], ["enabled": false])
        #expect(registered["enabled"] == false && registered["nextRunAt"] == .null, "\(registered)")
        // runNow runs a disabled job at once.
        let now = try bench.host.call("task.runNow", ["name": "manual"])
        #expect(now["run"]["trigger"] == "manual" && now["run"]["scheduledAt"] == .int(Self.t0) && now["run"]["taskId"].string != nil, "\(now)")
        try bench.waitForCalls("m", 1)
        try bench.waitForRun("manual", 1, "succeeded")
        try bench.advance(by: 2 * B.hour)
        #expect(try bench.calls("m") == 1)
        #expect(try bench.host.call("task.enable", ["name": "manual"])["nextRunAt"] == .int(Self.t0 + 3 * B.hour))
        try bench.advance(by: B.hour)
        try bench.waitForCalls("m", 2)
        #expect(try bench.host.call("task.disable", ["name": "manual"])["enabled"] == false)
        try bench.advance(by: B.hour)
        #expect(try bench.calls("m") == 2)
        #expect(try bench.host.call("task.remove", ["name": "manual"]) == ["removed": true])
        #expect(try bench.host.call("task.remove", ["name": "manual"]) == ["removed": false])
        let gone = try bench.host.expectFailure("task.enable", ["name": "manual"])
        #expect(gone["code"] == -32000 && gone["data"]["reason"] == "job_not_found", "\(gone)")
        #expect(try bench.host.call("task.list")["jobs"].array?.contains { $0["name"] == "manual" } == false)
    }

    @Test func badRegistrationsAreRefusedAndTheHostKeepsServing() throws {
        let bench = try QueueBench(defaultJobs: true)
        let cases: [(JSON, String)] = [
            (["name": "x", "schedule": "0 61 * * *", "call": ["method": "target.ok"]],
             "schedule \"0 61 * * *\": hour field at position 3: 61 is out of range 0-23"),
            (["name": "x", "schedule": "@daily", "timezone": "Mars/Olympus", "call": ["method": "target.ok"]],
             "timezone \"Mars/Olympus\" is not an IANA time zone name"),
            (["name": "x", "schedule": "@daily"], "give exactly one of call {method, params} or publish {topic, data}"),
            (["name": "x", "schedule": "@daily", "call": ["method": "target.ok"], "overlap": "later"],
             "overlap must be one of skip, queue, allow, got \"later\""),
            (["name": "x", "schedule": "@daily", "call": ["method": "target.ok"], "misfire": "twice"],
             "misfire must be one of skip, once, all, got \"twice\""),
            (["name": "../x", "schedule": "@daily", "call": ["method": "target.ok"]], "name must be 1 to 128 of A-Z a-z 0-9 . _ -"),
            (["name": "token-refresh", "schedule": "@daily", "call": ["method": "target.ok"]], "is a default job"),
            (["name": "x", "schedule": "@daily", "call": ["method": "target.ok"], "timeoutMs": 0], "timeoutMs must be 1 to 86400000"),
        ]
        for (params, message) in cases {
            let error = try bench.host.expectFailure("task.register", params)
            #expect(error["code"] == -32602 && error["message"].string?.contains(message) == true, "\(error)")
        }
        let missing = try bench.host.expectFailure("task.register", ["name": "x"])
        #expect(missing["code"] == -32602 && missing["message"].string?.contains("schedule") == true, "\(missing)")
        #expect(try bench.host.call("task.list")["jobs"].array?.map(\.["name"]) == ["session-cleanup", "session-evict", "token-refresh"])
    }

    @Test func overlapSkipAndQueueWithASlowTarget() throws {
        let bench = try QueueBench()
        try bench.register("skipper", "* * * * *", call: "target.hold", ["key": "s"])
        try bench.register("queuer", "* * * * *", call: "target.hold", ["key": "q"], ["overlap": "queue"])
        try bench.advance(by: B.minute)
        try bench.waitForHeld(2)
        try bench.advance(by: B.minute)
        let skipper = try bench.job("skipper")
        #expect(skipper["runs"][0]["status"] == "skipped" && skipper["runs"][0]["note"] == "run 1 is still pending or running (overlap: skip)", "\(skipper)")
        #expect(skipper["runs"][1]["status"] == "running", "\(skipper)")
        let queuer = try bench.job("queuer")
        #expect(queuer["runs"][0]["status"] == "queued" && queuer["waiting"] == 1, "\(queuer)")
        #expect(try bench.calls("q") == 1)
        // The held run ends: the queued one starts at once.
        try bench.host.call("target.release", ["key": "q"])
        try bench.waitForCalls("q", 2)
        try bench.waitForRun("queuer", 2, "running")
        #expect(try Poll.until { try bench.job("queuer")["runs"][1]["status"] == "succeeded" })
        try bench.host.call("target.release", ["key": "s"])
        #expect(try Poll.until { try bench.job("skipper")["runs"][1]["status"] == "succeeded" })
        try bench.host.call("target.release", ["key": "q"])
        try bench.waitForRun("queuer", 2, "succeeded")
    }

    @Test func overlapAllowStartsARunWhileThePreviousHolds() throws {
        let bench = try QueueBench()
        try bench.register("both", "* * * * *", call: "target.hold", ["key": "a"], ["overlap": "allow"])
        try bench.advance(by: B.minute)
        try bench.waitForCalls("a", 1)
        try bench.advance(by: B.minute)
        try bench.waitForCalls("a", 2)
        #expect(try bench.job("both")["active"] == 2)
    }

    @Test func theListShowsTheLast20Runs() throws {
        let bench = try QueueBench()
        try bench.register("tick", "* * * * *", call: "target.ok", ["key": "t"])
        for minute in 1...25 {
            try bench.advance(by: B.minute)
            try bench.waitForRun("tick", Int64(minute), "succeeded")
        }
        let runs = try bench.job("tick")["runs"].array ?? []
        #expect(runs.count == 20 && runs.first?["run"] == 25 && runs.last?["run"] == 6, "\(runs.map(\.["run"]))")
        #expect(runs.allSatisfy { $0["status"] == "succeeded" && $0["finishedAt"] != .null && $0["taskId"] != .null })
        #expect(try bench.calls("t") == 25)
    }
}
