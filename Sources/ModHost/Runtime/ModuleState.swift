/// Where a module instance is in its life. Rendered in `host.status` and `modules.list`.
public enum ModuleState: UInt8, Sendable, CustomStringConvertible {
    /// `init` succeeded; not started yet.
    case loaded
    /// Started and serving calls.
    case running
    /// Stopped (unloading, shutting down, or quiesced for a swap).
    case stopped
    /// `start` failed, or a dependency is gone.
    case failed

    public var description: String {
        switch self {
        case .loaded: "loaded"
        case .running: "running"
        case .stopped: "stopped"
        case .failed: "failed"
        }
    }
}
