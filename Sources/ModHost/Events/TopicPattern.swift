/// An event topic pattern: `*` matches any run of characters (dots included), so `health.*`
/// matches `health.cooldown` and `*` matches every topic. Without `*` it is an exact match.
struct TopicPattern: Hashable, Sendable {
    let text: String
    let hasWildcard: Bool

    init(_ text: String) {
        self.text = text
        hasWildcard = text.utf8.contains(UInt8(ascii: "*"))
    }

    func matches(_ topic: String) -> Bool {
        guard hasWildcard else { return text == topic }
        let pattern = Array(text.utf8)
        let subject = Array(topic.utf8)
        // Classic glob matching with one backtrack point: linear for patterns of '*' and literals.
        var p = 0
        var s = 0
        var star = -1
        var resume = 0
        while s < subject.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                p += 1
                resume = s
            } else if p < pattern.count, pattern[p] == subject[s] {
                p += 1
                s += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                s = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
