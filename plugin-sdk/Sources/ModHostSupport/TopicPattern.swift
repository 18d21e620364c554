/// An event topic pattern, as host and SDK both match them: `*` matches any run of characters
/// (dots included, none too), so `health.*` matches `health.cooldown` and `*` matches every
/// topic; without `*` it is an exact match.
public struct TopicPattern: Hashable, Sendable {
    public let text: String
    public let hasWildcard: Bool

    public init(_ text: String) {
        self.text = text
        hasWildcard = text.utf8.contains(UInt8(ascii: "*"))
    }

    public func matches(_ topic: String) -> Bool {
        hasWildcard ? Self.matches(text, topic) : text == topic
    }

    /// Whether `topic` matches `pattern`.
    public static func matches(_ pattern: String, _ topic: String) -> Bool {
        var pattern = pattern
        var topic = topic
        return pattern.withUTF8 { p in topic.withUTF8 { t in matches(p, t) } }
    }

    /// Greedy glob with one backtrack point (the last `*`): linear for patterns of `*` and
    /// literals, never worse than pattern × topic.
    private static func matches(_ p: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0, ti = 0
        var star = -1, resume = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                resume = ti
                pi += 1
            } else if pi < p.count, p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if star >= 0 {
                pi = star + 1
                resume += 1
                ti = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
