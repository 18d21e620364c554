import ModHostJSON
import ModuleSupport

/// `overlap`: what a run does while the job's previous run is still pending or running.
public enum JobOverlap: String, Codable, Sendable, CaseIterable {
    /// The run is dropped, recorded as `skipped`.
    case skip
    /// The run waits (`queued`) and starts when the previous one ends (at most `JobBook.maxWaiting`).
    case queue
    /// The run starts anyway.
    case allow
}

/// `misfire`: what runs after downtime or a clock jump forward, when runs were missed.
public enum JobMisfire: String, Codable, Sendable, CaseIterable {
    /// None of the missed runs; a run on time still runs; the next one from now.
    case skip
    /// One run for everything missed.
    case once
    /// Each missed run, the latest `JobBook.maxMisfireRuns`.
    case all
}

/// `call: {method, params}`.
public struct JobCall: Codable, Sendable, Equatable {
    public var method: String
    public var params: JSONValue?

    public init(method: String, params: JSONValue? = nil) {
        self.method = method
        self.params = params
    }
}

/// `publish: {topic, data}`.
public struct JobPublish: Codable, Sendable, Equatable {
    public var topic: String
    public var data: JSONValue?

    public init(topic: String, data: JSONValue? = nil) {
        self.topic = topic
        self.data = data
    }
}

/// A job as registered (and stored, and listed): its name is its identity.
public struct JobDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var schedule: String
    /// An IANA zone; nil runs on the host's.
    public var timezone: String?
    public var call: JobCall?
    public var publish: JobPublish?
    public var overlap: JobOverlap
    public var misfire: JobMisfire
    public var enabled: Bool
    /// Each run's limit, and its call's deadline (600000, as a queue task's).
    public var timeoutMs: Int64?
    /// One of the default jobs (`JobDefaults`): set by config, not by `task.register`.
    public var isDefault: Bool

    /// The task each run is (the queue's `TaskTarget`).
    public var target: TaskTarget {
        if let call { return .call(method: call.method, params: call.params) }
        return .publish(topic: publish?.topic ?? "", data: publish?.data)
    }
}

/// `task.register {name, schedule, call | publish, timezone?, overlap (skip), misfire (once), enabled (true), timeoutMs (600000)}`.
/// Enumerations come in as text so that a wrong word gets a message naming the field.
public struct RegisterRequest: Codable, Sendable {
    public var name: String
    public var schedule: String
    public var timezone: String?
    public var call: JobCall?
    public var publish: JobPublish?
    public var overlap: String?
    public var misfire: String?
    public var enabled: Bool?
    public var timeoutMs: Int64?

    public init(name: String, schedule: String, timezone: String? = nil, call: JobCall? = nil, publish: JobPublish? = nil,
                overlap: String? = nil, misfire: String? = nil, enabled: Bool? = nil, timeoutMs: Int64? = nil) {
        (self.name, self.schedule, self.timezone, self.call, self.publish) = (name, schedule, timezone, call, publish)
        (self.overlap, self.misfire, self.enabled, self.timeoutMs) = (overlap, misfire, enabled, timeoutMs)
    }
}

extension JobDefinition {
    /// The longest `call.params` or `publish.data`, as JSON text: a definition is stored whole.
    public static let maxPayloadBytes = 65_536
    /// A run's longest limit (a queue task's).
    public static let maxTimeoutMs: Int64 = 86_400_000
    public static let defaultTimeoutMs: Int64 = 600_000

    /// Checks a registration, every refusal -32602 naming the field. The schedule and zone are
    /// checked by the caller (`TaskEngine.schedule`, `zone`), which parses them anyway.
    public init(_ request: RegisterRequest, isDefault: Bool = false) throws(ModuleFailure) {
        try Self.checkName(request.name)
        switch (request.call, request.publish) {
        case (nil, nil), (.some, .some):
            throw .invalidInput("give exactly one of call {method, params} or publish {topic, data}")
        case (let call?, nil):
            try Self.checkWord(call.method, field: "call.method", example: "session.cleanup", needsDot: true)
            try Self.checkPayload(call.params, field: "call.params")
        case (nil, let publish?):
            try Self.checkWord(publish.topic, field: "publish.topic", example: "reports.due", needsDot: false)
            try Self.checkPayload(publish.data, field: "publish.data")
        }
        name = request.name
        schedule = request.schedule
        timezone = request.timezone
        call = request.call
        publish = request.publish
        overlap = try Self.choice(request.overlap, field: "overlap", default: .skip)
        misfire = try Self.choice(request.misfire, field: "misfire", default: .once)
        enabled = request.enabled ?? true
        if let timeout = request.timeoutMs, !(1...Self.maxTimeoutMs).contains(timeout) {
            throw .invalidInput("timeoutMs must be 1 to \(Self.maxTimeoutMs) (24 h), got \(timeout)")
        }
        timeoutMs = request.timeoutMs
        self.isDefault = isDefault
    }

    /// MODULES.md's ids: `[A-Za-z0-9._-]{1,128}`, not starting with `.` (a name is a store key).
    static func checkName(_ name: String) throws(ModuleFailure) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard (1...128).contains(name.utf8.count), allowed, !name.hasPrefix(".") else {
            throw .invalidInput("name must be 1 to 128 of A-Z a-z 0-9 . _ - and not start with a dot, got \(CronField.quoted(name.prefix(140)))")
        }
    }

    private static func checkWord(_ word: String, field: String, example: String, needsDot: Bool) throws(ModuleFailure) {
        let printable = word.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        let dotted = !needsDot || (word.contains(".") && !word.hasPrefix(".") && !word.hasSuffix("."))
        guard (1...200).contains(word.utf8.count), printable, dotted else {
            let shape = needsDot ? "module.method" : "a topic"
            throw .invalidInput("\(field) must be \(shape) (such as \(example)), 1 to 200 bytes without spaces, got \(CronField.quoted(word.prefix(210)))")
        }
    }

    private static func checkPayload(_ value: JSONValue?, field: String) throws(ModuleFailure) {
        guard let value else { return }
        let size = value.jsonBytes.count
        guard size <= maxPayloadBytes else {
            throw .invalidInput("\(field) must be at most \(maxPayloadBytes) bytes of JSON, got \(size)")
        }
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ text: String?, field: String, default value: T) throws(ModuleFailure) -> T
    where T.RawValue == String {
        guard let text else { return value }
        guard let chosen = T(rawValue: text) else {
            let words = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidInput("\(field) must be one of \(words), got \(CronField.quoted(text.prefix(40)))")
        }
        return chosen
    }
}
