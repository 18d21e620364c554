import Foundation
import ModHostTestKit
import Testing

/// The host clock through the real binary: with `--manual-clock`, time moves only by
/// `clock.advance` / `clock.set`, and timers fire in due order as it passes them.
@Suite struct ClockTests {
    static let start: Int64 = 1_700_000_000_000

    private func startHost(manual: Bool = true) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let arguments = manual ? ["--manual-clock", "--clock-start", String(Self.start)] : []
        let host = try HostProcess(plugins: plugins, extraArguments: arguments)
        try host.call("events.subscribe", ["topics": ["probe.timer"]])
        return host
    }

    @Test func manualClockStandsStillUntilMoved() throws {
        let host = try startHost()
        #expect(try host.call("probe.now") == .int(Self.start))
        #expect(try host.call("host.status")["clock"] == "manual")
        #expect(try host.call("probe.now") == .int(Self.start))
        #expect(try host.advanceClock(by: 1500) == Self.start + 1500)
        #expect(try host.call("probe.now") == .int(Self.start + 1500))
        #expect(try host.call("clock.set", ["ms": 42])["nowMs"] == 42)
        #expect(try host.call("probe.now") == 42)
    }

    @Test func timersFireInDueOrderAtTheirDueTime() throws {
        let host = try startHost()
        let late = try host.call("probe.timer", [3000, 0])
        let early = try host.call("probe.timer", [1000, 0])
        let middle = try host.call("probe.timer", [2000, 0])
        // Nothing fires before the clock moves.
        #expect(try host.call("probe.ping") == "pong")
        #expect(host.unreadLines.isEmpty)
        try host.advanceClock(by: 10_000)
        let fired = try (0..<3).map { _ in try host.nextEvent(topic: "probe.timer")["data"] }
        #expect(fired.map { $0["id"] } == [early, middle, late])
        #expect(fired.map { $0["now"].int } == [Self.start + 1000, Self.start + 2000, Self.start + 3000])
    }

    @Test func clockAdvanceAnswersAfterTheTimersItPassedHaveRun() throws {
        let host = try startHost()
        try host.call("probe.timer", [500, 0])
        try host.advanceClock(by: 499)
        #expect(host.unreadLines.isEmpty, "a timer fired early")
        try host.advanceClock(by: 1)
        // The event was written before clock.advance answered.
        #expect(host.unreadLines.contains { $0.contains("probe.timer") })
    }

    @Test func repeatingTimerFiresOncePerPeriodPassed() throws {
        let host = try startHost()
        try host.call("probe.timer", [1000, 1000])
        try host.advanceClock(by: 3500)
        let nows = try (0..<3).map { _ in try host.nextEvent(topic: "probe.timer")["data"]["now"].int }
        #expect(nows == [Self.start + 1000, Self.start + 2000, Self.start + 3000])
        #expect(try host.call("probe.now") == .int(Self.start + 3500))
        try host.advanceClock(by: 500)
        #expect(try host.nextEvent(topic: "probe.timer")["data"]["now"].int == Self.start + 4000)
    }

    @Test func realClockTimersFireOnTheirOwn() throws {
        let host = try startHost(manual: false)
        #expect(try host.call("host.status")["clock"] == "real")
        let id = try host.call("probe.timer", [20, 0])
        #expect(try host.nextEvent(topic: "probe.timer", timeout: 10)["data"]["id"] == id)
    }

    // MARK: Steps of the manual clock

    /// `clock.set` back: every timer's due time moves back with the clock, so a repeating timer
    /// keeps its cadence (the real clock does the same on a backward wall-clock step).
    @Test func clockSetBackMovesTimersBackWithIt() throws {
        let host = try startHost()
        let timer = try host.call("probe.timer", [1000, 1000])
        let back = Self.start - 3_600_000
        #expect(try host.call("clock.set", ["ms": .int(back)])["nowMs"] == .int(back))
        #expect(host.unreadLines.isEmpty, "nothing is due after a step back")
        try host.advanceClock(by: 2000)
        let fired = try (0..<2).map { _ in try host.nextEvent(topic: "probe.timer")["data"] }
        #expect(fired.map { $0["id"] } == [timer, timer])
        #expect(fired.map { $0["now"].int } == [back + 1000, back + 2000])
    }

    /// `clock.set` forward is a jump: what it passed fires once, at the new time, and a
    /// repeating timer then keeps its phase.
    @Test func clockSetForwardFiresWhatItPassedOnce() throws {
        let host = try startHost()
        let ticker = try host.call("probe.timer", [1000, 1000])
        let once = try host.call("probe.timer", [4000, 0])
        try host.call("clock.set", ["ms": .int(Self.start + 10_500)])
        let fired = try (0..<2).map { _ in try host.nextEvent(topic: "probe.timer")["data"] }
        #expect(Set(fired.map { $0["id"] }) == [ticker, once])
        #expect(fired.map { $0["now"].int } == [Self.start + 10_500, Self.start + 10_500])
        #expect(try host.call("probe.ping") == "pong")
        #expect(!host.unreadLines.contains { $0.contains("probe.timer") }, "the ticker fired more than once for the jump")
        try host.advanceClock(by: 500)
        #expect(try host.nextEvent(topic: "probe.timer")["data"]["now"].int == Self.start + 11_000)
    }

    /// A jump weeks ahead is cheap: a 1 s repeating timer fires once for it, not once per
    /// second it skipped (1,209,600 of them).
    @Test func clockSetWeeksAheadFiresARepeatingTimerOnce() throws {
        let host = try startHost()
        let ticker = try host.call("probe.timer", [1000, 1000])
        let target = Self.start + 14 * 86_400_000 + 500
        let started = Date()
        try host.call("clock.set", ["ms": .int(target)])
        #expect(Date().timeIntervalSince(started) < 5, "the jump took \(Date().timeIntervalSince(started)) s")
        #expect(try host.nextEvent(topic: "probe.timer")["data"] == ["id": ticker, "now": .int(target)])
        #expect(try host.call("probe.fired") == 1)
    }

    /// `clock.advance` is time passing, once per period crossed, up to 100,000 periods per
    /// timer; the rest counts as a jump (DESIGN.md, Time).
    @Test func clockAdvanceFiresAtMost100000PeriodsPerTimer() throws {
        let host = try startHost()
        try host.call("events.unsubscribe", ["topics": ["probe.timer"]])  // 100,000 events: count them in the module
        try host.call("probe.timer", [1, 1])
        try host.advanceClock(by: 150_000)
        #expect(try host.call("probe.fired") == 100_000)
        try host.advanceClock(by: 3)
        #expect(try host.call("probe.fired") == 100_003, "the timer keeps its 1 ms cadence after the cap")
    }

    // MARK: The clock's range

    /// Valid clock values are 1970-01-01 to 9999-12-31: beyond, `clock.set` and `clock.advance`
    /// are refused with -32602 naming `ms` and the range, and the clock does not move.
    @Test func clockMovesOutsideTheRangeAreRefused() throws {
        let host = try startHost()
        let end: Int64 = 253_402_300_799_999
        for ms in [Int64.max, end + 1, -1, Int64.min] {
            let error = try host.expectFailure("clock.set", ["ms": .int(ms)])
            #expect(error["code"] == -32602, "\(error)")
            let message = error["message"].string ?? ""
            #expect(message.contains("\"ms\"") && message.contains("253402300799999") && message.contains("9999-12-31"), "\(error)")
        }
        #expect(try host.call("probe.now") == .int(Self.start))
        #expect(try host.call("clock.set", ["ms": .int(end - 10)])["nowMs"] == .int(end - 10))
        for ms in [Int64(11), Int64.max] {
            let error = try host.expectFailure("clock.advance", ["ms": .int(ms)])
            #expect(error["code"] == -32602 && (error["message"].string ?? "").contains("9999-12-31"), "\(error)")
        }
        #expect(try host.advanceClock(by: 10) == end)
        #expect(try host.call("clock.set", ["ms": 0])["nowMs"] == 0)
        #expect(try host.call("probe.ping") == "pong")
    }

    /// `--clock-start` outside the range is a usage error, naming the flag and the range.
    @Test(arguments: ["-1", "253402300800000", "9223372036854775807"])
    func clockStartOutsideTheRangeIsAUsageError(_ start: String) throws {
        let host = try HostProcess(plugins: try TestPlugins.directory(), extraArguments: ["--manual-clock", "--clock-start=\(start)"])
        let status = try host.waitForExit()
        #expect(status == 64, "exit status \(status): \(host.stderrText)")
        #expect(host.stderrText.contains("--clock-start must be within 0...253402300799999"), "\(host.stderrText)")
    }

    /// A clock move waits for the timer callbacks it passed; one for a module stuck in a call
    /// cannot run. Shutdown still ends within its drain timeout: closing the module drops the
    /// callback and releases the move (it does not wait for the stuck call).
    @Test func shutdownEndsWhileAClockMoveWaitsForAModuleStuckInACall() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--manual-clock", "--drain-timeout-ms", "300"])
        _ = try host.call("probe.timer", [1_000, 0])
        try host.send(raw: #"{"jsonrpc":"2.0","id":"stuck","method":"probe.sleep","params":[30000]}"#)
        try host.waitUntilRunning("probe")
        try host.send(raw: #"{"jsonrpc":"2.0","id":"move","method":"clock.advance","params":{"ms":1000}}"#)
        // The timer's callback waits in the module's queue behind the stuck call, and the move for it.
        #expect(try Poll.until { (try host.call("modules.describe", ["id": "probe"])["queuedCalls"].int ?? 0) >= 1 })
        #expect(!host.unreadLines.contains { $0.contains("\"move\"") }, "the move waits for the stuck module's timer callback")
        let asked = Date()
        host.signal(SIGTERM)
        // The bound is ten times the drain timeout and the last-reply grace; the stuck call lasts 30 s.
        #expect(try host.waitForExit(timeout: 15) == 0)
        #expect(Date().timeIntervalSince(asked) < 15)
    }
}
