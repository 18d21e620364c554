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
}
