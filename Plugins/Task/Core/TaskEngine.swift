import Foundation
import ModuleSupport

/// The task module's rules: cron schedules in time zones (`task.preview`). Pure: time comes in
/// as `nowMs`, what the plugin must do afterwards goes into `effects`.
public struct TaskEngine: ModuleEngine {
    public typealias Effects = ModuleEffectList

    /// What a hot swap carries over.
    public struct State: Codable, Sendable {}

    /// The zone of a schedule that names none: the host's (its `TZ`).
    let defaultZone: CronZone

    public init(config: TaskConfig, defaultZone: TimeZone) {
        self.defaultZone = CronZone(defaultZone)
    }

    /// `task.preview`: the next `count` fire times strictly after `fromMs` (default now).
    public func preview(_ request: PreviewRequest, at nowMs: Int64) throws(ModuleFailure) -> PreviewAnswer {
        let count = request.count ?? 10
        guard (1...1000).contains(count) else { throw .invalidInput("count must be 1 to 1000, got \(count)") }
        let schedule = try Self.schedule(request.schedule)
        let zone = try zone(request.timezone)
        return PreviewAnswer(runs: schedule.preview(after: request.fromMs ?? nowMs, count: count, in: zone))
    }

    /// A schedule, or -32602 naming the field and position.
    static func schedule(_ text: String) throws(ModuleFailure) -> CronSchedule {
        guard text.utf8.count <= 200 else { throw .invalidInput("schedule must be at most 200 bytes long") }
        do {
            return try CronSchedule(text)
        } catch {
            throw .invalidInput("schedule \(CronField.quoted(text[...])): \(error)")
        }
    }

    /// An IANA zone, or the host's when nil.
    func zone(_ name: String?) throws(ModuleFailure) -> CronZone {
        guard let name else { return defaultZone }
        guard name.utf8.count <= 64, let zone = CronZone(identifier: name) else {
            throw .invalidInput("timezone \(CronField.quoted(name[...])) is not an IANA time zone name (such as Europe/Berlin or UTC)")
        }
        return zone
    }

    public func exportState() -> State { State() }
    public mutating func importState(_ state: State) {}
}

/// `task.preview {schedule, timezone?, fromMs?, count (10)}`.
public struct PreviewRequest: Codable, Sendable {
    public var schedule: String
    public var timezone: String?
    public var fromMs: Int64?
    public var count: Int?
}

/// `task.preview`'s answer: the fire times, ms since the epoch.
public struct PreviewAnswer: Codable, Sendable, Equatable {
    public var runs: [Int64]
}

/// The `task` section of the host's `--config` file.
public struct TaskConfig: Decodable, Sendable {
    public init() {}
}
