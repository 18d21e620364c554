import Foundation
import ModuleContracts
import ModuleSupport

// The health rules as the module kit runs them (ModuleKit's `EngineHost`, in the plugin): the
// engine's swap state, its effects as plain values, its input errors as -32602, its config read
// as a `Decodable`, and its operations in the shapes the methods and events take (the payloads
// of ModuleContracts), so the plugin is glue alone.

extension HealthEngine: ModuleEngine {
    public typealias Effects = HealthCore.Effects
    public typealias State = HealthState
}

extension Effects: ModuleEffects {
    /// Store writes first (the records encoded as `JSONEncoder` writes them, which
    /// `KeyEntry.fromRecord` reads back fast), then events, then the notes as warnings.
    public func forEachEffect(_ body: (ModuleEffect) -> Void) {
        for write in writes {
            switch write {
            case .putKey(let entry): Self.put(write.storeKey, entry, body)
            case .putSeries(let trip): Self.put(write.storeKey, trip, body)
            case .deleteKey, .deleteSeries: body(.delete(key: write.storeKey))
            }
        }
        for event in events {
            do {
                body(.publish(topic: event.topic, data: try Self.encoder.encode(event.data)))
            } catch {
                body(.log(.error, "could not encode the \(event.topic) event: \(error)"))
            }
        }
        for note in notes { body(.log(.warning, note)) }
    }

    private static let encoder = JSONEncoder()

    private static func put(_ key: String, _ value: some Encodable, _ body: (ModuleEffect) -> Void) {
        do {
            body(.put(key: key, value: try encoder.encode(value)))
        } catch {
            body(.log(.error, "could not encode store record \(key): \(error)"))
        }
    }
}

extension HealthInputError: ModuleFailureConvertible {
    public var moduleFailure: ModuleFailure { .invalidInput(message) }
}

extension HealthConfig: Decodable {
    /// The `health` config section (`decode(from:)`; the kit warns about the keys it ignored).
    public init(from decoder: any Decoder) throws {
        self = try Self.decode(from: decoder).0
    }
}

extension ProviderError {
    /// Checks a list of provider keys, naming the first bad one as `providerKeys[i]`.
    public static func check(providerKeys keys: [String]) throws(HealthInputError) {
        for (index, key) in keys.enumerated() { try check(providerKey: key, field: "providerKeys[\(index)]") }
    }
}

/// `{providerKey?}`: `health.status` and `health.reset` for one key, or for all without one.
public struct KeyQuery: Decodable, Sendable {
    public let providerKey: String?
}

/// `health.status`: one key, or `{entries}` without one.
public enum StatusAnswer: Encodable, Sendable {
    case one(KeyStatus)
    case all(StatusList)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .one(let status): try status.encode(to: encoder)
        case .all(let list): try list.encode(to: encoder)
        }
    }
}

extension HealthEngine {
    /// `health.available`, its keys checked first (`providerKeys[i]` names a bad one).
    public mutating func available(_ request: AvailableRequest, at nowMs: Int64, effects: inout Effects)
        throws(HealthInputError) -> AvailableAnswer
    {
        try ProviderError.check(providerKeys: request.providerKeys)
        return available(request.providerKeys, at: nowMs, peek: request.peek ?? false, effects: &effects)
    }

    /// `health.status`: the key asked about, or every key.
    public mutating func status(_ query: KeyQuery, at nowMs: Int64, effects: inout Effects) throws(HealthInputError) -> StatusAnswer {
        guard let key = query.providerKey else { return .all(statusOfAll(at: nowMs, effects: &effects)) }
        return .one(try status(of: key, at: nowMs, effects: &effects))
    }

    /// `health.reset`.
    public mutating func reset(_ query: KeyQuery, at nowMs: Int64, effects: inout Effects) throws(HealthInputError) -> ResetResult {
        ResetResult(reset: try reset(query.providerKey, at: nowMs, effects: &effects))
    }

    /// `token.reauth_required`: every key the token serves is out until its refresh (all of
    /// them or, when one is malformed, none: the event is refused whole).
    public mutating func reauthRequired(_ event: TokenEvent, at nowMs: Int64, effects: inout Effects) throws(HealthInputError) {
        try ProviderError.check(providerKeys: event.providerKeys)
        for key in event.providerKeys { _ = try reauthRequired(key, at: nowMs, effects: &effects) }
    }

    /// `token.refreshed`: lifts the auth block of every key the token serves (or of none).
    public mutating func tokenRefreshed(_ event: TokenEvent, at nowMs: Int64, effects: inout Effects) throws(HealthInputError) {
        try ProviderError.check(providerKeys: event.providerKeys)
        for key in event.providerKeys { _ = try tokenRefreshed(key, at: nowMs, effects: &effects) }
    }
}
