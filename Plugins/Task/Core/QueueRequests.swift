import ModHostJSON
import ModHostSupport
import ModuleSupport

/// `task.submit {call: {method, params}, delayMs? | atMs?, attempts (1), backoff {type, delayMs,
/// maxDelayMs}, timeoutMs (600000), key?, group?}`. A key it does not know is refused (a
/// misspelt `atempts` would otherwise be a task without retries).
public struct SubmitRequest: Decodable, Sendable {
    public struct Call: Decodable, Sendable {
        public var method: String
        public var params: JSONValue?
    }

    public struct BackoffRequest: Decodable, Sendable {
        public var type: String?
        public var delayMs: Int64?
        public var maxDelayMs: Int64?
    }

    public var call: Call?
    public var publish: JSONValue?
    public var delayMs: Int64?
    public var atMs: Int64?
    public var attempts: Int?
    public var backoff: BackoffRequest?
    public var timeoutMs: Int64?
    public var key: String?
    public var group: String?

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case call, publish, delayMs, atMs, attempts, backoff, timeoutMs, key, group
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(call: Call?, delayMs: Int64? = nil, atMs: Int64? = nil, attempts: Int? = nil, backoff: BackoffRequest? = nil,
                timeoutMs: Int64? = nil, key: String? = nil, group: String? = nil) {
        self.call = call
        self.delayMs = delayMs
        self.atMs = atMs
        self.attempts = attempts
        self.backoff = backoff
        self.timeoutMs = timeoutMs
        self.key = key
        self.group = group
    }

    public init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = all.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw ModuleFailure.invalidInput(
                "\(unknown) is not a task.submit field (call, delayMs, atMs, attempts, backoff, timeoutMs, key, group)")
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        call = try container.decodeIfPresent(Call.self, forKey: .call)
        publish = try container.decodeIfPresent(JSONValue.self, forKey: .publish)
        delayMs = try container.decodeIfPresent(Int64.self, forKey: .delayMs)
        atMs = try container.decodeIfPresent(Int64.self, forKey: .atMs)
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts)
        backoff = try container.decodeIfPresent(BackoffRequest.self, forKey: .backoff)
        timeoutMs = try container.decodeIfPresent(Int64.self, forKey: .timeoutMs)
        key = try container.decodeIfPresent(String.self, forKey: .key)
        group = try container.decodeIfPresent(String.self, forKey: .group)
    }

    /// The task this asks for at host time `nowMs`, or -32602 naming the field and what to do.
    public func spec(at nowMs: Int64) throws(ModuleFailure) -> TaskSpec {
        if publish != nil {
            throw .invalidInput("publish: task.submit takes call {method, params}; publish targets are for jobs (task.register)")
        }
        guard let call else { throw .invalidInput("call is required: {method: \"<module>.<method>\", params}") }
        try Self.checkMethod(call.method, field: "call.method")
        var dueAt = nowMs
        switch (delayMs, atMs) {
        case (.some, .some):
            throw .invalidInput("give delayMs or atMs, not both")
        case (let delay?, nil):
            guard (0...TaskSpec.maxDelayMs).contains(delay) else {
                throw .invalidInput("delayMs must be 0 to \(TaskSpec.maxDelayMs) (7 days), got \(delay)")
            }
            dueAt = nowMs &+ delay
        case (nil, let at?):
            guard at >= 0 else { throw .invalidInput("atMs must be a time in ms since the epoch, got \(at)") }
            dueAt = max(nowMs, at)
        case (nil, nil):
            break
        }
        let attempts = attempts ?? 1
        guard (1...TaskSpec.maxAttempts).contains(attempts) else {
            throw .invalidInput("attempts must be 1 to \(TaskSpec.maxAttempts) (1: no retry), got \(attempts)")
        }
        var backoff = Backoff()
        if let request = self.backoff {
            if let type = request.type {
                guard let kind = Backoff.Kind(rawValue: type) else {
                    throw .invalidInput("backoff.type must be fixed or exponential, got \(LogText.quote(type))")
                }
                backoff.type = kind
            }
            if let delay = request.delayMs {
                guard (0...TaskSpec.maxDelayMs).contains(delay) else {
                    throw .invalidInput("backoff.delayMs must be 0 to \(TaskSpec.maxDelayMs), got \(delay)")
                }
                backoff.delayMs = delay
            }
            if let cap = request.maxDelayMs {
                guard (0...TaskSpec.maxDelayMs).contains(cap) else {
                    throw .invalidInput("backoff.maxDelayMs must be 0 to \(TaskSpec.maxDelayMs), got \(cap)")
                }
                backoff.maxDelayMs = cap
            }
            guard backoff.maxDelayMs >= backoff.delayMs else {
                throw .invalidInput("backoff.maxDelayMs (\(backoff.maxDelayMs)) must be at least backoff.delayMs (\(backoff.delayMs))")
            }
        }
        let timeoutMs = timeoutMs ?? 600_000
        guard (1...TaskSpec.maxTimeoutMs).contains(timeoutMs) else {
            throw .invalidInput("timeoutMs must be 1 to \(TaskSpec.maxTimeoutMs) (24 h, the ABI's longest call deadline), got \(timeoutMs)")
        }
        if let key { try Self.checkName(key, field: "key", limit: 200) }
        if let group { try Self.checkName(group, field: "group", limit: 64) }
        return TaskSpec(target: .call(method: call.method, params: call.params), dueAt: dueAt, attempts: attempts,
                        backoff: backoff, timeoutMs: timeoutMs, key: key, group: group)
    }

    /// A method name `<module>.<method>`.
    static func checkMethod(_ method: String, field: String) throws(ModuleFailure) {
        let parts = method.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard method.utf8.count <= 200, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .invalidInput("\(field) must be \"<module>.<method>\" (at most 200 bytes), got \(LogText.quote(method))")
        }
    }

    static func checkName(_ name: String, field: String, limit: Int) throws(ModuleFailure) {
        guard !name.isEmpty, name.utf8.count <= limit else {
            throw .invalidInput("\(field) must be 1 to \(limit) bytes long")
        }
    }
}

/// `task.cancel {taskId}` and `task.get {taskId}`.
public struct TaskIDRequest: Decodable, Sendable {
    public var taskId: String
}

/// `task.results {consumer?, after?, limit (100), waitMs? (<= 30000)}`.
public struct ResultsRequest: Decodable, Sendable {
    public var consumer: String?
    public var after: Int64?
    public var limit: Int?
    public var waitMs: Int64?

    public init(consumer: String? = nil, after: Int64? = nil, limit: Int? = nil, waitMs: Int64? = nil) {
        self.consumer = consumer
        self.after = after
        self.limit = limit
        self.waitMs = waitMs
    }
}
