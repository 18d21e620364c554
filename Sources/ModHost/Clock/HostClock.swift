import Foundation
import Synchronization

/// The host's clock: what `now_ms` returns and what timers are scheduled against.
/// Milliseconds since the Unix epoch.
public protocol HostClock: Sendable {
    var nowMs: Int64 { get }
    /// True for a manual clock, which moves only through `clock.advance` / `clock.set`.
    var isManual: Bool { get }
}

/// The system's real-time clock.
public struct SystemClock: HostClock {
    public init() {}
    public var nowMs: Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
    public var isManual: Bool { false }
}

/// A clock that stands still until it is moved (`--manual-clock`), for tests that cross
/// cooldowns, heartbeats and cron schedules in milliseconds.
public final class ManualClock: HostClock {
    private let value: Atomic<Int64>

    public init(startMs: Int64) { value = Atomic(startMs) }
    public var nowMs: Int64 { value.load(ordering: .acquiring) }
    public var isManual: Bool { true }

    func set(_ ms: Int64) { value.store(ms, ordering: .releasing) }
}
