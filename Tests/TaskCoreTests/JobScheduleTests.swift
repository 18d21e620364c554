import Foundation
import Testing
@testable import TaskCore

/// Jobs crossing days of schedule, and what runs after downtime or a clock jump (`misfire`).
@Suite struct JobScheduleTests {
    typealias D = JobBookDriver
    static let (start, minute, hour, day) = (D.start, D.minute, D.hour, D.day)

    @Test func aDailyJobInBerlinRunsEachDayAtItsLocalTime() throws {
        var driver = D()
        try driver.register("report", "0 30 9 * * *", timezone: "Europe/Berlin")
        driver.advance(to: Self.start + 3 * Self.day)
        // 09:30 CET is 08:30Z, on Jan 1, 2 and 3.
        #expect(driver.fired.map(\.scheduledAt) == (0..<3).map { Self.start + Int64($0) * Self.day + 8 * Self.hour + 30 * Self.minute })
        #expect(driver.fired.allSatisfy { $0.trigger == .schedule })
        let view = driver.view("report")
        #expect(view.runs.map(\.status) == [.succeeded, .succeeded, .succeeded])
        #expect(view.nextRunAt == Self.start + 3 * Self.day + 8 * Self.hour + 30 * Self.minute)
        #expect(view.lastResult?.result == ["ok": true])
    }

    @Test func aWeekdayJobSkipsTheWeekend() throws {
        var driver = D()  // Thursday
        try driver.register("standup", "0 9 * * mon-fri")
        driver.advance(to: Self.start + 6 * Self.day)
        // Thu 1, Fri 2, Mon 5, Tue 6 (Jan 7 is past the end).
        #expect(driver.fired.map(\.scheduledAt) == [0, 1, 4, 5].map { Self.start + $0 * Self.day + 9 * Self.hour })
    }

    /// An hourly job last looked at on the hour; the host is down 5 h 30 min.
    func downtime(misfire: String, downFor: Int64 = 5 * hour + 30 * minute) throws -> D {
        var driver = D()
        try driver.register("sync", "@hourly", misfire: misfire)
        driver.advance(to: Self.start + Self.hour)  // one run on time
        var restarted = try driver.restarted(at: Self.start + Self.hour + downFor)
        restarted.wake(at: restarted.now)
        return restarted
    }

    @Test func misfireOnceRunsAMissedJobOnce() throws {
        let driver = try downtime(misfire: "once")
        let fires = driver.fired
        #expect(fires.count == 1)
        #expect(fires.first?.scheduledAt == Self.start + 6 * Self.hour && fires.first?.trigger == .misfire)
        #expect(driver.view("sync").runs.first?.note == "one run for 5 due runs (misfire: once)")
        #expect(driver.view("sync").nextRunAt == Self.start + 7 * Self.hour)
    }

    @Test func misfireAllRunsEachMissedRunUpToTen() throws {
        let five = try downtime(misfire: "all")
        #expect(five.fired.map(\.scheduledAt) == (2...6).map { Self.start + Int64($0) * Self.hour })
        #expect(five.fired.allSatisfy { $0.trigger == .misfire })
        let many = try downtime(misfire: "all", downFor: 15 * Self.hour + 10 * Self.minute)
        #expect(many.fired.map(\.scheduledAt) == (7...16).map { Self.start + Int64($0) * Self.hour })
        #expect(many.view("sync").runs.first { $0.scheduledAt == Self.start + 7 * Self.hour }?.note == "5 older missed runs not run (misfire: all runs the latest 10)")
    }

    @Test func misfireSkipRunsNoneAndGoesOnFromNow() throws {
        let driver = try downtime(misfire: "skip")
        #expect(driver.fired.isEmpty)
        let view = driver.view("sync")
        #expect(view.runs.first?.status == .skipped && view.runs.first?.note == "5 missed runs not run (misfire: skip)")
        #expect(view.runs.first?.scheduledAt == Self.start + 6 * Self.hour)
        #expect(view.nextRunAt == Self.start + 7 * Self.hour)
    }

    @Test func misfireSkipStillRunsTheRunThatIsOnTime() throws {
        // Back 20 s after 06:00: 02:00 to 05:00 were missed, 06:00 is within the grace.
        let driver = try downtime(misfire: "skip", downFor: 5 * Self.hour + 20_000)
        #expect(driver.fired.map(\.scheduledAt) == [Self.start + 6 * Self.hour])
        #expect(driver.fired.first?.trigger == .schedule)
        let skipped = driver.view("sync").runs.first { $0.status == .skipped }
        #expect(skipped?.note == "4 missed runs not run (misfire: skip)" && skipped?.scheduledAt == Self.start + 5 * Self.hour)
    }

    @Test func aPerSecondJobAfterAWeekDownIsCountedWithoutWalkingEverySecond() throws {
        var driver = D()
        try driver.register("tick", "* * * * * *", misfire: "all")
        var restarted = try driver.restarted(at: Self.start + 7 * Self.day)
        let began = ContinuousClock.now
        restarted.wake(at: restarted.now)
        #expect(ContinuousClock.now - began < .seconds(10))  // an order of magnitude past a slow machine
        #expect(restarted.fired.map(\.scheduledAt) == (0..<10).map { Self.start + 7 * Self.day - 9_000 + Int64($0) * 1000 })
        #expect(restarted.view("tick").runs.last?.scheduledAt == restarted.fired.first?.scheduledAt)
        #expect(restarted.view("tick").runs.last?.note == "more than 10000 older missed runs not run (misfire: all runs the latest 10)")
    }

    @Test func aForwardClockJumpIsAMisfire() throws {
        var driver = D()
        try driver.register("sync", "@hourly")
        driver.advance(to: Self.start + Self.hour)
        driver.wake(at: Self.start + 4 * Self.hour + 5 * Self.minute)  // clock.set forward: the timer fires once after the step
        #expect(driver.fired.map(\.scheduledAt) == [Self.start + Self.hour, Self.start + 4 * Self.hour])
        #expect(driver.fired.last?.trigger == .misfire)
        driver.advance(to: Self.start + 5 * Self.hour)
        #expect(driver.fired.last?.scheduledAt == Self.start + 5 * Self.hour && driver.fired.last?.trigger == .schedule)
    }

    @Test func aSmallStepBackRepeatsNoRun() throws {
        var driver = D()
        try driver.register("poll", "*/10 * * * *")
        driver.advance(to: Self.start + 12 * Self.hour + 30 * Self.minute)
        let before = driver.fired.count
        // Back one hour: 11:40 … 12:30 ran already; the job waits for 12:40.
        driver.now = Self.start + 11 * Self.hour + 30 * Self.minute
        for step in 0...6 { driver.wake(at: driver.now + (step == 0 ? 0 : 10 * Self.minute)) }  // 11:30 … 12:30
        #expect(driver.fired.count == before)
        driver.advance(to: Self.start + 12 * Self.hour + 40 * Self.minute)
        #expect(driver.fired.count == before + 1 && driver.fired.last?.scheduledAt == Self.start + 12 * Self.hour + 40 * Self.minute)
        #expect(Set(driver.fired.map(\.scheduledAt)).count == driver.fired.count)
    }

    @Test func aLargeStepBackStartsTheScheduleAgainFromTheNewTime() throws {
        var driver = D()
        try driver.register("poll", "*/10 * * * *")
        driver.advance(to: Self.start + Self.day + 12 * Self.hour + 30 * Self.minute)
        driver.fired = []
        driver.wake(at: Self.start + 12 * Self.hour + 30 * Self.minute)  // a day back
        #expect(driver.fired.map(\.scheduledAt) == [Self.start + 12 * Self.hour + 30 * Self.minute])
        #expect(driver.logs.contains("the clock went back 1440 min (more than 3 h): job schedules start again from now"))
        driver.advance(to: Self.start + 13 * Self.hour)
        #expect(driver.fired.map(\.scheduledAt) == [30, 40, 50, 60].map { Self.start + 12 * Self.hour + $0 * Self.minute })
    }

    @Test func aDisabledJobMissesNothingWhenEnabledAgain() throws {
        var driver = D()
        try driver.register("sync", "@hourly", misfire: "all")
        _ = try driver.run { try $0.disable("sync", at: $1, effects: &$2) }
        driver.advance(to: Self.start + 5 * Self.hour + 30 * Self.minute)
        #expect(driver.fired.isEmpty && driver.view("sync").nextRunAt == nil)
        let view = try driver.run { try $0.enable("sync", at: $1, effects: &$2) }
        #expect(view.nextRunAt == Self.start + 6 * Self.hour)
        driver.advance(to: Self.start + 6 * Self.hour)
        #expect(driver.fired.map(\.scheduledAt) == [Self.start + 6 * Self.hour])
    }

    @Test func runsDueAtRestartComeFromTheStoredEvaluatedTime() throws {
        var driver = D()
        try driver.register("sync", "@hourly")
        driver.advance(to: Self.start + 30 * Self.minute)
        // Nothing ran; the host dies and comes back 10 s after 01:00: on time, not a misfire.
        var restarted = try driver.restarted(at: Self.start + Self.hour + 10_000)
        #expect(restarted.book.nextWakeMs == Self.start + Self.hour)
        restarted.wake(at: restarted.now)
        #expect(restarted.fired.map(\.trigger) == [.schedule])
    }
}
