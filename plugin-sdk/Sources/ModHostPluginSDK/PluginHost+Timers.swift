import CModHost

extension PluginHost {
    /// Starts a timer on the host clock: `fire` runs after `delay`, then every `interval` if
    /// one is given, until cancelled or the instance stops (the host cancels an instance's
    /// timers when it stops).
    ///
    /// `fire` runs on a host thread, one at a time with the instance's other entries (calls,
    /// events, other timers) unless the plugin `isConcurrent`. It is `@Sendable`: keep state it
    /// touches `Sendable` (a `Mutex`, or an actor you message).
    ///
    /// - Throws: `PluginError` if the host refuses the timer.
    @discardableResult
    public func startTimer(after delay: Duration, every interval: Duration? = nil,
                           _ fire: @escaping @Sendable () -> Void) throws -> TimerID {
        let delayMs = Self.milliseconds(delay)
        let repeatMs = interval.map(Self.milliseconds) ?? 0
        let registry = core.timers
        let id = try core.withOpenTable("startTimer") { api, context in
            registry.start(repeats: repeatMs > 0, fire: fire) {
                let user = Unmanaged.passUnretained(registry).toOpaque()
                return api.pointee.timer_start?(context, delayMs, repeatMs, { user, timerID in
                    guard let user else { return }
                    HostThread.entry { Unmanaged<TimerRegistry>.fromOpaque(user).takeUnretainedValue().fire(timerID) }
                }, user) ?? 0
            }
        }
        guard id != 0 else { throw PluginError.internalError("startTimer: refused by the host") }
        return TimerID(id)
    }

    /// Cancels a timer. Returns `false` if it had already fired (one-shot) or was cancelled.
    @discardableResult
    public func cancelTimer(_ timer: TimerID) -> Bool {
        let known = core.timers.remove(timer.rawValue)
        core.withTable(closed: ()) { api, context in
            _ = api.pointee.timer_cancel?(context, timer.rawValue)
        }
        return known
    }

    private static func milliseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds > 0 ? UInt64(milliseconds) : 0
    }
}
