/// How much `session.context` puts in (MODULES.md's defaults), shrunk by a quarter at a time
/// until the text fits `maxChars`.
public struct ContextLimits: Sendable, Equatable {
    public var detailed = 30
    public var headLines = 20
    public var tailLines = 20
    public var older = 500
    public var minCurrent = 5
    public var lineChars = 512

    public init() {}

    /// Every count a quarter smaller (at least one less), or nil when nothing is left to cut.
    func shrunk() -> ContextLimits? {
        func cut(_ n: Int) -> Int { max(0, n - max(1, n / 4)) }
        guard detailed + headLines + tailLines + older > 0 else { return nil }
        var next = self
        next.detailed = cut(detailed)
        next.headLines = cut(headLines)
        next.tailLines = cut(tailLines)
        next.older = cut(older)
        next.minCurrent = min(minCurrent, next.detailed)
        return next
    }
}

/// One command as the context sees it: the record and its output's bytes (direction 1 only).
public struct ContextCommand: Sendable {
    public var sessionId: String
    public var record: CommandRecord
    public var output: @Sendable () -> [UInt8]

    public init(sessionId: String, record: CommandRecord, output: @escaping @Sendable () -> [UInt8]) {
        self.sessionId = sessionId
        self.record = record
        self.output = output
    }
}

/// `session.context`'s answer.
public struct ContextAnswer: Codable, Sendable, Equatable {
    public var text: String
    /// Commands in the text (detailed and as command lines).
    public var commands: Int
    public var chars: Int
}

/// The text an LLM gets: the last commands in detail (`$ command`, then the head and tail of
/// the cleaned output with the lines left out counted between), older ones as command lines,
/// oldest first; at least `minCurrent` of the detailed ones from the current session.
public enum ContextBuilder {
    public static func build(_ all: [ContextCommand], current: String, maxChars: Int?) -> ContextAnswer {
        let sorted = all.enumerated().sorted { ($0.element.record.started_at, $0.offset) < ($1.element.record.started_at, $1.offset) }.map(\.element)
        var limits = ContextLimits()
        var cache: [Int: [String]] = [:]
        while true {
            let answer = render(sorted, current: current, limits: limits, cache: &cache)
            guard let maxChars, answer.chars > maxChars else { return answer }
            guard let next = limits.shrunk() else {
                let text = String(answer.text.suffix(maxChars))
                return ContextAnswer(text: text, commands: answer.commands, chars: text.count)
            }
            limits = next
        }
    }

    static func render(_ commands: [ContextCommand], current: String, limits: ContextLimits, cache: inout [Int: [String]]) -> ContextAnswer {
        // The detailed ones: the last `detailed`, then swap in current-session ones until
        // `minCurrent` of them are the current session's.
        var detailed = Set(commands.indices.suffix(limits.detailed))
        let currentIn = detailed.filter { commands[$0].sessionId == current }.count
        if currentIn < limits.minCurrent {
            let more = commands.indices.filter { commands[$0].sessionId == current && !detailed.contains($0) }.suffix(limits.minCurrent - currentIn)
            let others = detailed.filter { commands[$0].sessionId != current }.sorted().prefix(more.count)
            detailed.subtract(others)
            detailed.formUnion(more)
        }
        let olderIndices = commands.indices.filter { !detailed.contains($0) }.suffix(limits.older)
        var parts: [String] = []
        if !olderIndices.isEmpty {
            parts.append("Earlier commands:")
            for i in olderIndices { parts.append("$ " + line(commands[i].record, limits)) }
            parts.append("")
        }
        for i in detailed.sorted() {
            let record = commands[i].record
            var header = "$ " + line(record, limits)
            if let code = record.exit_code, code != 0 { header += "  [exit \(code)]" }
            parts.append(header)
            let lines = cache[i] ?? TerminalText.lines(commands[i].output()).map { TerminalText.cut($0, to: limits.lineChars) }
            cache[i] = lines
            if lines.count <= limits.headLines + limits.tailLines {
                parts.append(contentsOf: lines)
            } else {
                parts.append(contentsOf: lines.prefix(limits.headLines))
                parts.append("… \(lines.count - limits.headLines - limits.tailLines) lines left out …")
                parts.append(contentsOf: lines.suffix(limits.tailLines))
            }
        }
        let text = parts.joined(separator: "\n")
        return ContextAnswer(text: text, commands: detailed.count + olderIndices.count, chars: text.count)
    }

    static func line(_ record: CommandRecord, _ limits: ContextLimits) -> String {
        TerminalText.cut(TerminalText.lines(Array((record.command_line ?? "").utf8)).joined(separator: " "), to: limits.lineChars)
    }
}
