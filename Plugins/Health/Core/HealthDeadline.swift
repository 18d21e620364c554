import ModuleSupport

/// What a deadline on health's heap (`DeadlineHeap`, ModuleSupport) stands for.
enum HealthDeadline: Sendable, Equatable {
    case key(String)
    case series(String)
}
