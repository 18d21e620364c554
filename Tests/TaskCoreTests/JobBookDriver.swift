import Foundation
import ModuleSupport
@testable import TaskCore

/// A job book driven as the engine drives it, with a stand-in queue: every fire becomes task
/// `t<n>`, and (unless `hold`) ends at once with `succeeded`. The store is the last `job/<name>`
/// write of each job, so `restarted(at:)` is a kill -9 and a start on what reached the store.
struct JobBookDriver {
    static let start: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z, a Thursday
    static let minute: Int64 = 60_000, hour: Int64 = 3_600_000, day: Int64 = 86_400_000

    var book: JobBook
    var now: Int64
    var store: [String: Data] = [:]
    var logs: [String] = []
    var tasks = 0
    /// Runs started and not ended (when `hold`).
    var open: [String] = []
    var hold = false
    /// Every fire, in order.
    var fired: [JobFire] = []

    init(zone: String = "UTC", at now: Int64 = start) {
        book = JobBook(defaultZone: CronZone(identifier: zone)!)
        self.now = now
    }

    mutating func apply(_ effects: ModuleEffectList) {
        for effect in effects.effects {
            switch effect {
            case .put(let key, let value): store[key] = value
            case .delete(let key): store[key] = nil
            case .log(_, let text): logs.append(text)
            default: break
            }
        }
    }

    mutating func run<R>(_ body: (inout JobBook, Int64, inout ModuleEffectList) throws -> R) rethrows -> R {
        var effects = ModuleEffectList()
        defer { apply(effects) }
        return try body(&book, now, &effects)
    }

    @discardableResult
    mutating func register(_ name: String, _ schedule: String, method: String = "echo.say", timezone: String? = nil,
                           overlap: String? = nil, misfire: String? = nil, enabled: Bool? = nil) throws -> JobView {
        let request = RegisterRequest(name: name, schedule: schedule, timezone: timezone, call: JobCall(method: method),
                                      overlap: overlap, misfire: misfire, enabled: enabled)
        return try run { try $0.register(request, at: $1, effects: &$2) }
    }

    /// Hands fires to the stand-in queue.
    mutating func submit(_ fires: [JobFire]) {
        var pending = fires
        while !pending.isEmpty {
            let fire = pending.removeFirst()
            fired.append(fire)
            tasks += 1
            let id = "t\(tasks)"
            run { $0.submitted(fire, taskId: id, effects: &$2) }
            if hold { open.append(id) } else { pending += end(id, .init(status: .succeeded, result: ["ok": true])) }
        }
    }

    mutating func end(_ id: String, _ outcome: JobOutcome) -> [JobFire] {
        open.removeAll { $0 == id }
        return run { $0.ended(id, outcome, at: $1, effects: &$2) }
    }

    /// Ends an open task and submits what that releases.
    mutating func finish(_ id: String, _ outcome: JobOutcome = .init(status: .succeeded)) {
        submit(end(id, outcome))
    }

    /// A wake at `time` (the clock jumped or the timer fired there).
    mutating func wake(at time: Int64) {
        now = time
        submit(run { $0.takeDue(at: $1, effects: &$2) })
    }

    /// Time passes to `time`, the book woken at each of its next times on the way (as the
    /// manual clock's `clock.advance` fires the wake-up timer at each due time).
    mutating func advance(to time: Int64) {
        while let next = book.nextWakeMs, next <= time { wake(at: max(next, now)) }
        now = time
    }

    func record(_ name: String) throws -> JobRecord {
        try JSONDecoder().decode(JobRecord.self, from: store["job/\(name)"]!)
    }

    /// A new book on what reached the store, at `time` (the host was down in between).
    func restarted(at time: Int64, zone: String = "UTC") throws -> JobBookDriver {
        var next = JobBookDriver(zone: zone, at: time)
        next.store = store
        next.tasks = tasks
        next.hold = hold
        let records = try store.keys.sorted().filter { $0.hasPrefix("job/") }.map { key in
            (name: String(key.dropFirst(4)), value: try JSONDecoder().decode(JobRecord.self, from: store[key]!))
        }
        next.run { book, _, effects in book.load(records, effects: &effects) }
        return next
    }

    func view(_ name: String) -> JobView { book.view(name)! }
}
