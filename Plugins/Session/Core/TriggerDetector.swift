/// The `autoTrigger` rules: a non-zero exit, or an output pattern (a case-insensitive substring,
/// found even when it arrives split across two writes), with a cooldown per session so a burst
/// of matches gives one `session.trigger`.
public struct TriggerConfig: Codable, Sendable, Equatable {
    public var onNonZeroExit: Bool?
    public var outputPatterns: [String]?
    public var cooldownSeconds: Double?

    public init(onNonZeroExit: Bool? = nil, outputPatterns: [String]? = nil, cooldownSeconds: Double? = nil) {
        self.onNonZeroExit = onNonZeroExit
        self.outputPatterns = outputPatterns
        self.cooldownSeconds = cooldownSeconds
    }
}

/// `session.trigger`'s data.
public struct TriggerEvent: Codable, Sendable, Equatable {
    public var sessionId: String
    public var kind: String
    public var exitCode: Int32?
    public var pattern: String?
    public var commandId: String?
}

public struct TriggerDetector: Sendable {
    let onNonZeroExit: Bool
    /// The patterns lowercased (ASCII case folding on bytes: output is bytes, not text).
    let patterns: [(text: String, bytes: [UInt8])]
    let cooldownMs: Int64
    /// The longest pattern less one byte: what a session keeps of its output to find a match
    /// that straddles two writes.
    let keep: Int

    public init(_ config: TriggerConfig?) {
        onNonZeroExit = config?.onNonZeroExit ?? false
        patterns = (config?.outputPatterns ?? []).filter { !$0.isEmpty }.map { ($0, Array($0.utf8).map(Self.lower)) }
        cooldownMs = Int64((config?.cooldownSeconds ?? 10) * 1000)
        keep = max(0, (patterns.map(\.bytes.count).max() ?? 0) - 1)
    }

    public var watchesOutput: Bool { !patterns.isEmpty }

    /// The first pattern found in `tail + data` that `tail` alone did not hold; updates `tail`.
    public func match(_ data: [UInt8], tail: inout [UInt8]) -> String? {
        guard watchesOutput else { return nil }
        let window = tail + data.map(Self.lower)
        defer { tail = Array(window.suffix(keep)) }
        for pattern in patterns where Self.contains(window, pattern.bytes, endingPast: tail.count) {
            return pattern.text
        }
        return nil
    }

    /// Whether a non-zero exit triggers.
    public func triggers(exitCode: Int32?) -> Bool {
        onNonZeroExit && (exitCode ?? 0) != 0
    }

    /// Whether the cooldown since `last` has passed at `now`.
    public func cooledDown(last: Int64?, now: Int64) -> Bool {
        guard let last else { return true }
        return now - last >= cooldownMs
    }

    /// Whether `needle` occurs in `haystack` ending past its first `tailLength` bytes (the
    /// carried tail, searched with the write before).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8], endingPast tailLength: Int) -> Bool {
        guard needle.count <= haystack.count else { return false }
        var i = 0
        while i + needle.count <= haystack.count {
            if i + needle.count > tailLength, haystack[i] == needle[0], haystack[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    static func lower(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b + 32 : b }
}
