/// The wait after a transient refresh failure (network, 5xx, 429, timeout): 30 s, 60 s, 120 s,
/// then every 300 s, or the server's `Retry-After` when it asks for longer (capped at an hour,
/// so a wild header cannot park a token for days).
public enum Backoff {
    public static let stepsMs: [Int64] = [30_000, 60_000, 120_000]
    public static let steadyMs: Int64 = 300_000
    public static let retryAfterCapMs: Int64 = 3_600_000

    /// The wait after the `streak`-th consecutive failure (1 for the first).
    public static func delayMs(streak: Int, retryAfterMs: Int64?) -> Int64 {
        let base = streak >= 1 && streak <= stepsMs.count ? stepsMs[streak - 1] : steadyMs
        guard let retryAfterMs else { return base }
        return max(base, min(retryAfterMs, retryAfterCapMs))
    }
}
