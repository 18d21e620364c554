import Synchronization

/// The tasks running an instance's async method handlers, so `stop` can cancel them.
final class TaskTracker: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var tasks: [UInt64: Task<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Runs `work` in a new task, remembered until it finishes.
    func spawn(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            // Created under the lock, so the task cannot remove itself before it is recorded.
            // On the host thread that entered the plugin (`HostThreadExecutor`): the task's first
            // job runs when this entry ends, after the lock is released.
            state.tasks[id] = Task(executorPreference: HostThreadExecutor.shared) { [self] in
                await work()
                self.finished(id)
            }
        }
    }

    /// Cancels every running task (they still complete their calls, with an error).
    func cancelAll() {
        let tasks = state.withLock { Array($0.tasks.values) }
        for task in tasks { task.cancel() }
    }

    /// The number of tasks still running.
    var count: Int {
        state.withLock { $0.tasks.count }
    }

    private func finished(_ id: UInt64) {
        _ = state.withLock { $0.tasks.removeValue(forKey: id) }
    }
}
