import ModuleSupport

/// A session's routing state (MODULES.md): stored as `session/<id>`, restored at start, carried
/// across a hot swap. `"*"` is the server-wide session, applying under every other.
public struct SessionState: Codable, Sendable, Equatable {
    /// The next select's target (`p.m`, `p.key.m`, `p.key`): consumed by it.
    public var forcedTarget: String?
    /// A model (`p.m`: every key serving it) or one key (`p.key.m`, `p.key`).
    public var stickyTarget: String?
    public var allowedProviders: [String] = []
    public var disabledProviders: [String] = []
    /// Health keys, `provider.key`.
    public var disabledKeys: [String] = []
    /// `provider.model`.
    public var disabledModels: [String] = []
    public var stopMessage: StopMessage?
    /// The last change, ms since the epoch.
    public var updatedAtMs: Int64 = 0

    public init() {}

    /// Nothing set: a session that holds nothing is not kept.
    public var isEmpty: Bool {
        forcedTarget == nil && stickyTarget == nil && allowedProviders.isEmpty && disabledProviders.isEmpty
            && disabledKeys.isEmpty && disabledModels.isEmpty && stopMessage == nil
    }

    /// The state without its timestamp, to tell a change from a no-op.
    func sameContent(as other: SessionState) -> Bool {
        var a = self, b = other
        a.updatedAtMs = 0
        b.updatedAtMs = 0
        return a == b
    }
}

/// `<**stopMessage:"text",N**>`: a text to send `max` times; `used` counts the sends.
public struct StopMessage: Codable, Sendable, Equatable {
    public var text: String
    public var max: Int
    public var used: Int

    public init(text: String, max: Int, used: Int = 0) {
        self.text = text
        self.max = max
        self.used = used
    }
}

/// `routing.get`'s answer: the state and its session id.
public struct SessionView: Codable, Sendable, Equatable {
    public var sessionId: String
    public var forcedTarget: String?
    public var stickyTarget: String?
    public var allowedProviders: [String]
    public var disabledProviders: [String]
    public var disabledKeys: [String]
    public var disabledModels: [String]
    public var stopMessage: StopMessage?
    public var updatedAtMs: Int64

    public init(_ id: String, _ state: SessionState) {
        sessionId = id
        forcedTarget = state.forcedTarget
        stickyTarget = state.stickyTarget
        allowedProviders = state.allowedProviders
        disabledProviders = state.disabledProviders
        disabledKeys = state.disabledKeys
        disabledModels = state.disabledModels
        stopMessage = state.stopMessage
        updatedAtMs = state.updatedAtMs
    }
}

/// `routing.set`'s params: the fields given replace the session's; the others stay.
public struct SessionUpdate: Codable, Sendable, Equatable {
    public var sessionId: String
    public var forcedTarget: String?
    public var stickyTarget: String?
    public var allowedProviders: [String]?
    public var disabledProviders: [String]?
    public var disabledKeys: [String]?
    public var disabledModels: [String]?
    public var stopMessage: StopMessageUpdate?

    public init(sessionId: String) { self.sessionId = sessionId }
}

/// `routing.set`'s `stopMessage`: `{text, max?}` (used starts at 0).
public struct StopMessageUpdate: Codable, Sendable, Equatable {
    public var text: String
    public var max: Int?
}

/// Session ids: 1 to 256 bytes, no control characters (they become store keys).
public enum SessionID {
    public static let serverWide = "*"

    public static func check(_ id: String, field: String = "sessionId") throws(ModuleFailure) {
        guard !id.isEmpty, id.utf8.count <= 256, !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidInput("\(field) must be 1 to 256 bytes without control characters")
        }
    }
}
