import ModHostSupport

/// The cooldown steps for 429s without a hint: each one takes the next step (15 s, 30 s, 1 m,
/// 5 m, 30 m, 1 h by default; the last repeats), and the chain starts over once
/// `resetMs` passed since the key's last error of any class.
public struct BackoffChain: Codable, Sendable, Equatable {
    /// Steps taken in the current chain.
    public private(set) var step = 0
    /// The key's last error, of any class: the quiet period runs from here.
    public private(set) var lastErrorAtMs: Int64?

    public init() {}

    /// A chain as a stored record holds it (`KeyEntry+Record`).
    init(step: Int, lastErrorAtMs: Int64?) {
        self.step = step
        self.lastErrorAtMs = lastErrorAtMs
    }

    /// Starts the chain over if the key has been quiet for `resetMs`. Call before noting the
    /// error being reported.
    public mutating func resetIfQuiet(at nowMs: Int64, resetMs: Int64) {
        if let last = lastErrorAtMs, HostTime.elapsed(from: last, to: nowMs) >= resetMs { step = 0 }
    }

    /// An error of any class happened at `nowMs`.
    public mutating func noteError(at nowMs: Int64) {
        lastErrorAtMs = max(lastErrorAtMs ?? nowMs, nowMs)
    }

    /// The cooldown for a 429 without a hint, taking the next step.
    public mutating func nextDelay(_ steps: [Int64]) -> Int64 {
        let delay = steps[min(step, steps.count - 1)]
        step += 1
        return delay
    }

    /// Whether the chain is where a fresh key's would be.
    var isIdle: Bool { step == 0 }
}
