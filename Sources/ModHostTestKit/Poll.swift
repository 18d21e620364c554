import Foundation

/// Waiting for an observable state (a status field, a count in `host.status`) where no line
/// announces it: polls `condition` every `interval` until it holds or `timeout` passes.
/// Time-based behaviour belongs on the manual clock; this is for states the host reaches on
/// its own threads.
public enum Poll {
    /// Whether `condition` held before `timeout`.
    public static func until(timeout: TimeInterval = 20, every interval: Duration = .milliseconds(10),
                             _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let micros = useconds_t(interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000)
        while try !condition() {
            if Date() > deadline { return false }
            usleep(micros)
        }
        return true
    }
}
