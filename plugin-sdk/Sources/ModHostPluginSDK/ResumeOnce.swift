import Synchronization

/// Resumes a continuation exactly once: the first of reply and cancellation wins.
final class ResumeOnce: Sendable {
    private enum State {
        case waiting
        case armed(CheckedContinuation<RawJSON, any Error>)
        case finished(Result<RawJSON, any Error>?)
    }

    private let state = Mutex<State>(.waiting)

    /// Arms with the continuation; returns `false` (after resuming it) if already finished.
    func set(_ continuation: CheckedContinuation<RawJSON, any Error>) -> Bool {
        let early: Result<RawJSON, any Error>? = state.withLock { state in
            if case .finished(let result) = state {
                state = .finished(nil)
                return result ?? .failure(CancellationError())
            }
            state = .armed(continuation)
            return nil
        }
        if let early {
            continuation.resume(with: early)
            return false
        }
        return true
    }

    func resume(with result: Result<RawJSON, any Error>) {
        let continuation: CheckedContinuation<RawJSON, any Error>? = state.withLock { state in
            switch state {
            case .waiting:
                state = .finished(result)
                return nil
            case .armed(let continuation):
                state = .finished(nil)
                return continuation
            case .finished:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
