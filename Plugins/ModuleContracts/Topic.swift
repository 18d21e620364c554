/// The event topics modules publish and consume (MODULES.md): one spelling, shared by the
/// producer and every consumer.
public enum Topic {
    // Upstream calls, reported by the gateway (or any client): health and routing consume them.
    /// A provider call failed: `ProviderError`.
    public static let providerError = "provider.error"
    /// A provider call succeeded: `ProviderSuccess`.
    public static let providerSuccess = "provider.success"

    // The token module: each a `TokenEvent`.
    public static let tokenRefreshed = "token.refreshed"
    public static let tokenRefreshFailed = "token.refresh_failed"
    public static let tokenReauthRequired = "token.reauth_required"
    public static let tokenSuspended = "token.suspended"
    public static let tokenResumed = "token.resumed"

    // The health module.
    /// `HealthKeyEvent` with `untilMs` and `reason`.
    public static let healthCooldown = "health.cooldown"
    /// `HealthKeyEvent` with `untilMs` and `trips`.
    public static let healthOpened = "health.opened"
    /// `HealthKeyEvent` with the key alone.
    public static let healthRecovered = "health.recovered"
    /// `SeriesTripped`.
    public static let healthSeriesTripped = "health.series_tripped"

    // The task module: each a `TaskEvent`.
    /// A task's attempt began.
    public static let taskStarted = "task.started"
    /// A task reached a terminal state (succeeded, failed, canceled): its results entry exists.
    public static let taskFinished = "task.finished"

    // The host.
    /// `ClientEvent`: a control-channel client connected.
    public static let hostClientConnected = "host.client_connected"
    /// `ClientEvent`: a control-channel client went away (node takes its nodes offline).
    public static let hostClientDisconnected = "host.client_disconnected"
}
