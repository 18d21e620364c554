import Foundation
import ModHostTestKit
import Testing

/// The real clock's timers across wall-clock steps, through the real binary: the host runs with
/// `Fixtures/fakeclock.c` preloaded, which moves CLOCK_REALTIME (and only it) by an offset the
/// test rewrites while the host runs, so the machine's clock is never touched. The kernel does
/// not see these steps (no TFD_TIMER_CANCEL_ON_SET notice): only the host's own comparison of
/// the wall and monotonic clocks at each wake-up does.
@Suite struct WallClockStepTests {
    /// A host on the real clock with the fake wall clock preloaded, and the offset's file.
    private func startHost() throws -> (HostProcess, FakeWallClock) {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let tools = try TemporaryDirectory.make(prefix: "modhost-fakeclock")
        let wall = try FakeWallClock(file: "\(tools)/offset")
        let library = try TestPlugins.fakeClock(into: tools)
        let host = try HostProcess(plugins: plugins, environment: ["LD_PRELOAD": library, "MH_FAKECLOCK_FILE": wall.file])
        try host.call("events.subscribe", ["topics": ["probe.timer"]])
        return (host, wall)
    }

    /// The next `probe.timer` firing of timer `id`: its host time.
    private func nextFiring(_ host: HostProcess, of id: JSON) throws -> Int64 {
        while true {
            let data = try host.nextEvent(topic: "probe.timer", timeout: 10)["data"]
            if data["id"] == id { return data["now"].int ?? -1 }
        }
    }

    @Test func repeatingTimerKeepsFiringAfterTheWallClockStepsBackAnHour() throws {
        let (host, wall) = try startHost()
        let timer = try host.call("probe.timer", [50, 50])
        let before = try nextFiring(host, of: timer)
        _ = try nextFiring(host, of: timer)

        try wall.set(offsetMs: -3_600_000)
        let now = try #require(try host.call("probe.now").int)
        #expect(now < before - 3_500_000, "the fake wall clock did not step back: \(now) after \(before)")
        // Firings from after the step: with the wait on the wall clock they would stall for an
        // hour. 10 s each is 200 periods.
        var after: [Int64] = []
        while after.count < 3 {
            let firing = try nextFiring(host, of: timer)
            if firing < before - 3_000_000 { after.append(firing) }
        }
        #expect(after == after.sorted(), "\(after)")
        #expect(try host.shutdown() == 0)
    }

    @Test func aTimerStartedJustAfterABackwardStepIsNotMovedByIt() throws {
        let (host, wall) = try startHost()
        // Only a far timer: the timer thread sleeps and has not seen the step when the next
        // timer starts (starting it is what wakes the thread).
        try host.call("probe.timer", [600_000, 0])
        try wall.set(offsetMs: -3_600_000)
        let started = try #require(try host.call("probe.now").int)
        let timer = try host.call("probe.timer", [1500, 0])
        let fired = try nextFiring(host, of: timer)
        // Set on the new time already: moved back an hour too, it would fire at once.
        #expect(fired - started >= 1400, "fired \(fired - started) ms after it was started for 1500 ms")
        #expect(try host.shutdown() == 0)
    }

    @Test func aForwardStepFiresWhatItPassedOnce() throws {
        let (host, wall) = try startHost()
        let ticker = try host.call("probe.timer", [50, 50])
        let halfHour = try host.call("probe.timer", [1_800_000, 0])
        let before = try nextFiring(host, of: ticker)

        try wall.set(offsetMs: 3_600_000)
        // The half-hour timer was passed by the step: it fires (soon: the ticker wakes the
        // timer thread every 50 ms), after the step.
        var tickerFirings = 0
        while true {
            let data = try host.nextEvent(topic: "probe.timer", timeout: 10)["data"]
            if data["id"] == halfHour {
                #expect((data["now"].int ?? 0) >= before + 3_600_000, "\(data)")
                break
            }
            tickerFirings += 1
        }
        // The ticker fired once for the hour it skipped, not once per missed period (72,000).
        let settled = try host.call("probe.now").int ?? 0
        while try nextFiring(host, of: ticker) < settled + 500 { tickerFirings += 1 }
        #expect(tickerFirings < 1000, "the ticker fired \(tickerFirings) times within half a second of the step")
        #expect(try host.shutdown() == 0)
    }
}

/// The offset file `fakeclock.c` maps: 8 bytes, a signed count of milliseconds.
struct FakeWallClock {
    let file: String

    init(file: String) throws {
        self.file = file
        try set(offsetMs: 0)
    }

    /// Rewrites the offset in place (the preloaded library maps the file shared, so the next
    /// clock reading in the host moves).
    func set(offsetMs: Int64) throws {
        var value = offsetMs
        let bytes = withUnsafeBytes(of: &value) { Data($0) }
        if FileManager.default.fileExists(atPath: file) {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            defer { try? handle.close() }
            try handle.write(contentsOf: bytes)
        } else {
            try bytes.write(to: URL(fileURLWithPath: file))
        }
    }
}
