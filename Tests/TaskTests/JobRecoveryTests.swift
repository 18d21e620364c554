import Foundation
import ModHostTestKit
import Testing

/// Jobs across time that does not pass evenly: kill -9 and a restart later (misfire once, all,
/// skip), `clock.set` forward and back, and jobs kept across kill -9 and a hot swap.
@Suite struct JobRecoveryTests {
    typealias B = QueueBench
    static let t0 = QueueBench.start

    @Test func missedRunsAfterAKillAndARestartFiveHoursLater() throws {
        let bench = try QueueBench()
        try bench.register("once", "@hourly", call: "target.ok", ["key": "o"])
        try bench.register("all", "@hourly", call: "target.ok", ["key": "a"], ["misfire": "all"])
        try bench.register("skip", "@hourly", call: "target.ok", ["key": "s"], ["misfire": "skip"])
        try bench.advance(by: B.hour)
        for name in ["once", "all", "skip"] { try bench.waitForRun(name, 1, "succeeded") }
        // Down from 01:00 to 05:30: 02:00 … 05:00 were missed.
        let restarted = try bench.killAndRestart(at: Self.t0 + 5 * B.hour + 30 * B.minute)
        let once = try restarted.waitForRun("once", 2, "succeeded")
        #expect(once["runs"][0]["trigger"] == "misfire" && once["runs"][0]["scheduledAt"] == .int(Self.t0 + 5 * B.hour), "\(once)")
        #expect(once["runs"][0]["note"] == "one run for 4 due runs (misfire: once)", "\(once)")
        #expect(once["runs"][1]["scheduledAt"] == .int(Self.t0 + B.hour), "the history survived the kill: \(once)")
        // misfire: all runs each missed run, one after another.
        let all = try restarted.waitForRun("all", 5, "succeeded")
        #expect(all["runs"].array?.prefix(4).map(\.["scheduledAt"]) == [5, 4, 3, 2].map { .int(Self.t0 + $0 * B.hour) }, "\(all)")
        try restarted.waitForCalls("a", 4)
        let skip = try restarted.job("skip")
        #expect(skip["runs"][0]["status"] == "skipped" && skip["runs"][0]["note"] == "4 missed runs not run (misfire: skip)", "\(skip)")
        #expect(try restarted.calls("s") == 0 && restarted.calls("o") == 1)
        // And on from now: 06:00.
        #expect(skip["nextRunAt"] == .int(Self.t0 + 6 * B.hour))
        try restarted.advance(by: 30 * B.minute)
        try restarted.waitForRun("skip", 3, "succeeded")
    }

    @Test func aClockSetForwardIsAMisfireAndOneBackRepeatsNothingOrStartsAgain() throws {
        let bench = try QueueBench()
        try bench.register("poll", "@hourly", call: "target.ok", ["key": "p"])
        try bench.advance(by: B.hour)
        try bench.waitForRun("poll", 1, "succeeded")
        // Forward to 04:20: the wake-up fires once, after the step; 02:00 … 04:00 are one run.
        try bench.harness.at(Self.t0 + 4 * B.hour + 20 * B.minute)
        let forward = try bench.waitForRun("poll", 2, "succeeded")
        #expect(forward["runs"][0]["trigger"] == "misfire" && forward["runs"][0]["scheduledAt"] == .int(Self.t0 + 4 * B.hour), "\(forward)")
        // Back one hour to 03:20: 04:00 ran already; nothing until 05:00.
        try bench.harness.at(Self.t0 + 3 * B.hour + 20 * B.minute)
        try bench.advance(by: 100 * B.minute)  // to 05:00
        let back = try bench.waitForRun("poll", 3, "succeeded")
        #expect(back["runs"][0]["scheduledAt"] == .int(Self.t0 + 5 * B.hour) && back["runs"][0]["trigger"] == "schedule", "\(back)")
        #expect(try bench.calls("p") == 3)
        // Back a whole day (the clock was wrong): the schedule starts again from the new time.
        try bench.harness.at(Self.t0 + 5 * B.hour - B.day)
        try bench.advance(by: B.hour)
        let again = try bench.waitForRun("poll", 4, "succeeded")
        #expect(again["runs"][0]["scheduledAt"] == .int(Self.t0 + 6 * B.hour - B.day), "\(again)")
        try bench.host.waitForStderr(containing: "job schedules start again from now")
    }

    @Test func jobsAreKeptAcrossAKillAndAHotSwap() throws {
        let bench = try QueueBench()
        try bench.register("keep", "*/10 * * * *", call: "target.ok", ["key": "k"], ["overlap": "queue", "timezone": "Europe/Berlin"])
        try bench.advance(by: 10 * B.minute)
        try bench.waitForRun("keep", 1, "succeeded")
        let restarted = try bench.killAndRestart(at: Self.t0 + 15 * B.minute)
        let kept = try restarted.job("keep")
        #expect(kept["overlap"] == "queue" && kept["timezone"] == "Europe/Berlin" && kept["runs"].array?.count == 1, "\(kept)")
        #expect(kept["nextRunAt"] == .int(Self.t0 + 20 * B.minute))
        // A hot swap: the new instance takes the jobs over and re-arms the wake-up.
        let copy = try TemporaryDirectory.make(prefix: "task-swap")
        try PluginBuilder.copyBuilt("libTask.so", into: copy)
        let swapped = try restarted.host.call("modules.swap", ["id": "task", "path": .string("\(copy)/libTask.so")])
        #expect(swapped["to"].string != nil, "\(swapped)")
        #expect(try restarted.job("keep")["runs"] == kept["runs"])
        try restarted.advance(by: 5 * B.minute)
        let after = try restarted.waitForRun("keep", 2, "succeeded")
        #expect(after["runs"][0]["scheduledAt"] == .int(Self.t0 + 20 * B.minute), "\(after)")
        try restarted.waitForCalls("k", 1)  // the target's count started again with the kill
    }
}
