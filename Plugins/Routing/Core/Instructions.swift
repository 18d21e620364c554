/// RouteCodex's routing instructions, `<**…**>` markers in user text (MODULES.md, routing):
/// the syntax alone. What a `p.x` names (a key alias or a model) is resolved against the pools
/// when the instruction is applied (`Resolver`).
public enum Instruction: Equatable, Sendable {
    /// `<**clear**>`: drops force, sticky, allow and disable; the text's other markers are ignored.
    case clear
    /// `<**p.m**>`, `<**p.key.m**>`, `<**p.key**>`, `<**p.N**>`: the next select only.
    case force(Path)
    /// `<**p**>`, `<**!p**>`, `<**!p,q**>`: the allow-list, replacing the previous one.
    case allow([String])
    /// `<**!p.m**>` (every key of the model), `<**!p.key.m**>`, `<**!p.key**>`, `<**!p.N**>`.
    case sticky(Path)
    /// `<**#…**>`: the disables, replacing the previous ones.
    case disable([Path])
    /// `<**@…**>`: lifts disables.
    case enable([Path])
    /// `<**stopMessage:"text",N**>`.
    case stopMessage(text: String, max: Int)
    /// `<**stopMessage:clear**>`.
    case stopMessageClear
}

/// A provider and what follows its first dot, not yet resolved.
public struct Path: Equatable, Sendable {
    public var provider: String
    public var rest: String?
    public init(provider: String, rest: String? = nil) {
        self.provider = provider
        self.rest = rest
    }
    public var text: String { rest.map { "\(provider).\($0)" } ?? provider }
}

/// One marker found in a text: as written, and what it says or why it says nothing.
public struct ParsedMarker: Equatable, Sendable {
    public var marker: String
    public var outcome: Result<Instruction, MarkerError>
}

public struct MarkerError: Error, Equatable, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

public enum InstructionParser {
    public static let open = "<**"
    public static let close = "**>"
    /// The longest stopMessage text, in bytes.
    public static let maxStopText = 4_096
    public static let maxStopRepeats = 10_000

    /// The markers of `text`, left to right, and the text with every marker removed (an
    /// unclosed `<**` is text, not a marker).
    public static func parse(_ text: String) -> (text: String, markers: [ParsedMarker]) {
        var output = ""
        var markers: [ParsedMarker] = []
        var rest = text[...]
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            output += rest[..<start.lowerBound]
            let body = String(rest[start.upperBound..<end.lowerBound])
            markers.append(ParsedMarker(marker: open + body + close, outcome: Result { () throws(MarkerError) in try instruction(body) }))
            rest = rest[end.upperBound...]
        }
        output += rest
        return (output, markers)
    }

    /// What one marker's body says.
    public static func instruction(_ body: String) throws(MarkerError) -> Instruction {
        if body == "clear" { return .clear }
        if body.hasPrefix("stopMessage:") { return try stopMessage(String(body.dropFirst("stopMessage:".count))) }
        guard let first = body.first else { throw MarkerError("empty marker") }
        switch first {
        case "!":
            let paths = try list(body.dropFirst())
            if paths.allSatisfy({ $0.rest == nil }) { return .allow(paths.map(\.provider)) }
            guard paths.count == 1 else { throw MarkerError("a sticky marker names one target (an allow-list names providers only)") }
            return .sticky(paths[0])
        case "#": return .disable(try list(body.dropFirst()))
        case "@": return .enable(try list(body.dropFirst()))
        default:
            let paths = try list(body[...])
            if paths.allSatisfy({ $0.rest == nil }) { return .allow(paths.map(\.provider)) }
            guard paths.count == 1 else { throw MarkerError("a force marker names one target (an allow-list names providers only)") }
            return .force(paths[0])
        }
    }

    /// `a,b.c,…`: each a provider optionally followed by a dot and a key or model path.
    static func list(_ text: Substring) throws(MarkerError) -> [Path] {
        guard !text.isEmpty else { throw MarkerError("the marker names no provider") }
        var paths: [Path] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw MarkerError("empty item in a comma list") }
            let parts = item.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            let provider = String(parts[0])
            guard Names.isName(provider) else {
                throw MarkerError("unknown marker: \"\(Names.clip(String(item)))\" is not provider, provider.key, provider.N or provider.model")
            }
            var rest: String?
            if parts.count == 2 {
                let tail = String(parts[1])
                guard Names.isModel(tail), !tail.hasPrefix("."), !tail.hasSuffix("."), !tail.contains("..") else {
                    throw MarkerError("\"\(Names.clip(String(item)))\" has an empty or malformed key or model after \(provider).")
                }
                rest = tail
            }
            paths.append(Path(provider: provider, rest: rest))
        }
        return paths
    }

    /// After `stopMessage:`: `clear`, `"text"` or `"text",N` (N ≥ 1).
    static func stopMessage(_ text: String) throws(MarkerError) -> Instruction {
        if text == "clear" { return .stopMessageClear }
        guard text.hasPrefix("\""), let closing = text.lastIndex(of: "\""), closing != text.startIndex else {
            throw MarkerError("stopMessage needs a quoted text: stopMessage:\"text\" or stopMessage:\"text\",N")
        }
        let message = String(text[text.index(after: text.startIndex)..<closing])
        guard !message.isEmpty else { throw MarkerError("stopMessage text is empty") }
        guard message.utf8.count <= maxStopText else { throw MarkerError("stopMessage text is over \(maxStopText) bytes") }
        let tail = text[text.index(after: closing)...]
        if tail.isEmpty { return .stopMessage(text: message, max: 1) }
        guard tail.hasPrefix(","), let count = Int(tail.dropFirst()), (1...maxStopRepeats).contains(count) else {
            throw MarkerError("stopMessage repeat count must be an integer from 1 to \(maxStopRepeats) after a comma, found \"\(Names.clip(String(tail)))\"")
        }
        return .stopMessage(text: message, max: count)
    }
}
