/// `routing.select`'s params.
public struct SelectRequest: Codable, Sendable, Equatable {
    public var sessionId: String
    public var pool: String?
    public var exclude: [String]?
    public var bypassSticky: Bool?
    public var dryRun: Bool?

    public init(sessionId: String, pool: String? = nil, exclude: [String]? = nil, bypassSticky: Bool? = nil, dryRun: Bool? = nil) {
        self.sessionId = sessionId
        self.pool = pool
        self.exclude = exclude
        self.bypassSticky = bypassSticky
        self.dryRun = dryRun
    }
}

/// `routing.select`'s answer.
public struct Selection: Codable, Sendable, Equatable {
    public var target: String
    public var provider: String
    public var key: String
    public var model: String
    public var providerKey: String
    public var pool: String
    /// `forced`, `sticky` or `pool`.
    public var via: String
    /// The target's `series`, when configured (for `health.report`).
    public var series: String?
}

/// `routing.select {dryRun: true}`'s answer: every candidate looked at and why it was or was
/// not usable; `chosen` is what a real select would answer, `failure` why it would fail.
public struct DryRun: Codable, Sendable, Equatable {
    public var candidates: [Candidate]
    public var chosen: Selection?
    public var failure: DryRunFailure?
}

public struct Candidate: Codable, Sendable, Equatable {
    public var target: String
    public var providerKey: String
    public var pool: String
    /// `forced`, `sticky` or `pool`.
    public var stage: String
    /// Why it is not usable: `disabled`, `not_allowed`, `excluded`, `cooldown until …`, …
    public var excluded: String?
}

public struct DryRunFailure: Codable, Sendable, Equatable {
    public var reason: String
    public var detail: String
}

/// What a select decided: the answer (the plugin claims its key from health), or a dry run.
public enum SelectOutcome: Sendable, Equatable {
    case chosen(Selection)
    case dryRun(DryRun)
}

extension SelectOutcome: Encodable {
    /// The answer's JSON: the selection, or the dry run.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .chosen(let chosen): try chosen.encode(to: encoder)
        case .dryRun(let dry): try dry.encode(to: encoder)
        }
    }
}
