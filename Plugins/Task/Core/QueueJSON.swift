import ModHostJSON
import ModuleContracts

// The queue's records, events and answers written as `JSONValue`s, which the kit writes
// without Foundation's JSONEncoder (its fast path; a queued task's records and events were a
// seventh of the host's CPU time per task through JSONEncoder). The shapes are exactly what the
// synthesized `Codable` conformances read back (Tests/TaskCoreTests/QueueJSONTests.swift).

extension Optional {
    fileprivate func put(_ key: String, into object: inout [String: JSONValue], _ transform: (Wrapped) -> JSONValue) {
        if let self { object[key] = transform(self) }
    }
}

extension TaskTarget {
    var json: JSONValue {
        switch self {
        case .call(let method, let params):
            var inner: [String: JSONValue] = ["method": .string(method)]
            params.put("params", into: &inner) { $0 }
            return ["call": .object(inner)]
        case .publish(let topic, let data):
            var inner: [String: JSONValue] = ["topic": .string(topic)]
            data.put("data", into: &inner) { $0 }
            return ["publish": .object(inner)]
        }
    }
}

extension TaskOrigin {
    var json: JSONValue {
        switch self {
        case .job(let name, let at): ["job": ["name": .string(name), "scheduledAtMs": .int(at)]]
        }
    }
}

extension Backoff {
    var json: JSONValue {
        ["type": .string(type.rawValue), "delayMs": .int(delayMs), "maxDelayMs": .int(maxDelayMs)]
    }
}

extension TaskError {
    var json: JSONValue {
        var object: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
        reason.put("reason", into: &object) { .string($0) }
        data.put("data", into: &object) { $0 }
        return .object(object)
    }
}

extension TaskOutcome {
    var json: JSONValue {
        var object: [String: JSONValue] = [:]
        result.put("result", into: &object) { $0 }
        error.put("error", into: &object) { $0.json }
        return .object(object)
    }
}

extension QueuedTask {
    var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "seq": .int(seq), "target": target.json, "status": .string(status.rawValue),
            "attempts": .int(Int64(attempts)), "maxAttempts": .int(Int64(maxAttempts)), "backoff": backoff.json,
            "timeoutMs": .int(timeoutMs), "createdAt": .int(createdAt), "dueAt": .int(dueAt),
        ]
        origin.put("origin", into: &object) { $0.json }
        key.put("key", into: &object) { .string($0) }
        group.put("group", into: &object) { .string($0) }
        startedAt.put("startedAt", into: &object) { .int($0) }
        completedAt.put("completedAt", into: &object) { .int($0) }
        outcome.put("outcome", into: &object) { $0.json }
        cursor.put("cursor", into: &object) { .int($0) }
        missingSince.put("missingSince", into: &object) { .int($0) }
        return .object(object)
    }
}

extension ResultEntry {
    var json: JSONValue {
        var object: [String: JSONValue] = [
            "cursor": .int(cursor), "taskId": .string(taskId), "status": .string(status.rawValue), "attempts": .int(Int64(attempts)),
            "durationMs": .int(durationMs), "completedAt": .int(completedAt),
        ]
        result.put("result", into: &object) { $0 }
        error.put("error", into: &object) { $0.json }
        job.put("job", into: &object) { .string($0) }
        return .object(object)
    }
}

extension ResultsAnswer {
    var json: JSONValue {
        ["entries": .array(entries.map(\.json)), "cursor": .int(cursor)]
    }
}

extension TaskEvent {
    var json: JSONValue {
        var object: [String: JSONValue] = ["taskId": .string(taskId), "status": .string(status), "attempts": .int(Int64(attempts))]
        job.put("job", into: &object) { .string($0) }
        scheduledAtMs.put("scheduledAtMs", into: &object) { .int($0) }
        cursor.put("cursor", into: &object) { .int($0) }
        return .object(object)
    }
}
