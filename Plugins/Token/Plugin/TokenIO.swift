import Dispatch
import Foundation
import Glibc
import ModHostPluginSDK
import ModHostSupport
import ModuleKit
import Synchronization
import TokenCore

/// Carries out the I/O the token rules ask for (`TokenRequest`), on a serial queue of its own,
/// so the module's thread never waits for a lock, a file or the network; each result goes back
/// into the engine as an operation. Waits here run on real time, also under `--manual-clock`
/// (the lock retries every 25 ms up to the refresh timeout; the HTTP request is bounded by it).
///
/// A shadow instance carries out scans only: no lock, no request, no write.
///
/// Threads: `carryOut` from any (the kit calls it after each operation); the rest on `queue`.
final class TokenIO: Sendable {
    typealias Engine = EngineHost<TokenEngine>

    let host: PluginHost
    let directory: AuthDirectory
    let timeoutMs: Int64
    let shadow: Bool
    let queue = DispatchQueue(label: "token-io")
    private let state = Mutex(IOState())
    /// Work queued or under way (a job, a lock being retried, a request in flight): `stop`
    /// waits on it.
    private let outstanding = DispatchGroup()

    private struct IOState: Sendable {
        /// `draining` (in `stop`): what began finishes, nothing new begins; `closed`: nothing runs.
        var phase = Phase.closed
        var locks: [String: Int32] = [:]
        var client: HTTPClient?
        var watch: DirectoryWatch?
    }

    private enum Phase { case running, draining, closed }

    init(host: PluginHost, directory: String, timeoutMs: Int64) {
        self.host = host
        self.directory = AuthDirectory(path: directory)
        self.timeoutMs = timeoutMs
        shadow = host.isShadow
    }

    // MARK: Lifecycle

    /// Reads the directory into the engine at once (so the first call sees the tokens) and
    /// watches it.
    func start(engine: Engine) {
        state.withLock { state in
            state.phase = .running
            state.client = shadow ? nil : HTTPClient(timeoutMs: timeoutMs)
        }
        let files = directory.scan()
        try? engine.perform { $0.scanned(files ?? [], complete: files != nil, at: $1, effects: &$2) }
        watch(engine)
        let count = engine.read(\.tokenCount)
        if files == nil {
            host.log(.warning, "cannot read the auth directory \(LogText.quote(directory.path, limit: 200)): no tokens until it can be read")
        } else if !FileManager.default.fileExists(atPath: directory.path) {
            host.log(.info, "the auth directory \(LogText.quote(directory.path, limit: 200)) is absent: no tokens until it is created")
        } else {
            host.log(.info, "watching \(LogText.quote(directory.path, limit: 200)): \(count) tokens" + (shadow ? " (shadow: no refresh)" : ""))
        }
    }

    /// Lets what began finish (its results still reach the engine), for at most the refresh
    /// timeout and 2 s, then closes: the watch, the HTTP session, the locks.
    func stop() {
        state.withLock { $0.phase = .draining }
        let deadline = DispatchTime.now() + .milliseconds(Int(timeoutMs) + 2_000)
        _ = outstanding.wait(timeout: deadline)
        let (client, watch, locks) = state.withLock { state in
            defer {
                state.phase = .closed
                state.client = nil
                state.watch = nil
                state.locks = [:]
            }
            return (state.client, state.watch, state.locks)
        }
        watch?.cancel()
        client?.invalidate()
        for fd in locks.values { close(fd) }
    }

    private func watch(_ engine: Engine) {
        guard state.withLock({ $0.watch == nil }) else { return }
        let watch = DirectoryWatch(path: directory.path, queue: queue) { [weak engine, self] in
            guard let engine else { return }
            carryOut([.scan], engine: engine)
        }
        state.withLock { $0.watch = watch }
    }

    // MARK: Requests

    /// Queues `requests` in order (the kit's outside-effects handler).
    func carryOut(_ requests: [TokenRequest], engine: Engine) {
        for request in requests {
            if shadow, request != .scan { continue }
            switch request {
            case .scan:
                job(startsWork: true) { [self] in
                    let files = directory.scan()
                    try? engine.perform { $0.scanned(files ?? [], complete: files != nil, at: $1, effects: &$2) }
                    watch(engine)
                }
            case .lock(let id, let attempt):
                job(startsWork: true) { [self] in lock(id, attempt, engine, deadline: DispatchTime.now() + .milliseconds(Int(timeoutMs))) }
            case .send(let id, let attempt, let request):
                job { [self] in send(id, attempt, request, engine) }
            case .reread(let id, let attempt):
                job { [self] in
                    let file = directory.read("\(id).json")
                    try? engine.perform { $0.reread(id, attempt: attempt, file: file, at: $1, effects: &$2) }
                }
            case .write(let id, let attempt, let bytes):
                // Beside the queue: two fsyncs take milliseconds, and a token's write is the only
                // step of its flight under way, so writes of different tokens may overlap.
                job(on: .global()) { [self] in
                    let error = directory.write(id, bytes)
                    try? engine.perform { $0.written(id, attempt: attempt, error: error, at: $1, effects: &$2) }
                }
            case .unlock(let id):
                job(evenClosed: true) { [self] in
                    if let fd = state.withLock({ $0.locks.removeValue(forKey: id) }) { close(fd) }
                }
            }
        }
    }

    /// Runs `body` on the queue, counted as outstanding until it returns. A job that starts new
    /// work is dropped once the module is stopping; one that finishes work is not.
    private func job(startsWork: Bool = false, evenClosed: Bool = false, on target: DispatchQueue? = nil,
                     _ body: @escaping @Sendable () -> Void) {
        let accepted = state.withLock { state -> Bool in
            switch state.phase {
            case .running: break
            case .draining: if startsWork { return false }
            case .closed: if !evenClosed { return false }
            }
            outstanding.enter()
            return true
        }
        guard accepted else { return }
        (target ?? queue).async { [self] in
            body()
            outstanding.leave()
        }
    }

    /// Tries the lock; retries every 25 ms (real time) until `deadline`.
    private func lock(_ id: String, _ attempt: UInt64, _ engine: Engine, deadline: DispatchTime) {
        switch directory.tryLock(id) {
        case .success(let fd?):
            state.withLock { state in
                if let old = state.locks[id] { close(old) }
                state.locks[id] = fd
            }
            let file = directory.read("\(id).json")
            try? engine.perform { $0.lockTaken(id, attempt: attempt, file: file, at: $1, effects: &$2) }
        case .success(nil):
            guard DispatchTime.now() < deadline, state.withLock({ $0.phase != .closed }) else {
                let detail = "another process held \(directory.lockPath(id)) for longer than \(timeoutMs) ms (refreshTimeoutMs)"
                try? engine.perform { $0.lockFailed(id, attempt: attempt, detail: detail, at: $1, effects: &$2) }
                return
            }
            outstanding.enter()
            queue.asyncAfter(deadline: .now() + .milliseconds(25)) { [self] in
                lock(id, attempt, engine, deadline: deadline)
                outstanding.leave()
            }
        case .failure(let error):
            try? engine.perform { $0.lockFailed(id, attempt: attempt, detail: error.text, at: $1, effects: &$2) }
        }
    }

    private func send(_ id: String, _ attempt: UInt64, _ request: OAuthRequest, _ engine: Engine) {
        guard let client = state.withLock({ $0.client }) else { return }
        let started = DispatchTime.now()
        outstanding.enter()
        client.send(request) { [self] result in
            queue.async { [self] in
                let durationMs = Int64((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
                if state.withLock({ $0.phase != .closed }) {
                    try? engine.perform { $0.httpCompleted(id, attempt: attempt, result: result, durationMs: durationMs, at: $1, effects: &$2) }
                }
                outstanding.leave()
            }
        }
    }
}
