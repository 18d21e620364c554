import Foundation
import ModHostJSON

/// How a shadow compares (`modules.swap {..., mode: "shadow", compare, keepSamples}`): per
/// method, JSON pointers to leave out of the comparison (`/generatedAt`) and the share of calls
/// to mirror; and how many differing calls to keep as samples.
///
/// Without `ignore`, results are compared byte for byte. With it, both results are read as JSON,
/// the members and elements the pointers name are removed, and the rest compared as JSON values
/// (member order does not count, numbers compare by value). Errors compare by code.
struct ShadowComparison: Sendable {
    struct Rule: Encodable, Sendable {
        /// JSON pointers (RFC 6901) into the result, left out of the comparison.
        var ignore: [String]?
        /// The share of the method's calls mirrored, 0 to 1 (default 1: every call). Spread
        /// evenly and exactly: 0.5 mirrors every second call.
        var sample: Double?
    }

    static let defaultKeepSamples = 5
    static let maxKeepSamples = 1000
    /// The key of the rule for methods without their own.
    static let anyMethod = "*"

    let rules: [String: Rule]
    let keepSamples: Int
    /// The pointers of each rule, split into reference tokens once.
    private let ignored: [String: [[String]]]

    init() {
        rules = [:]
        keepSamples = Self.defaultKeepSamples
        ignored = [:]
    }

    /// Reads and checks the swap's `compare` (as written: an object of rules) and `keepSamples`
    /// against the serving module's declared methods (`-32602` naming the field and what to do).
    init(compare: JSONValue?, keepSamples: Int?, declared: Set<String>, module: String) throws(RPCError) {
        var rules: [String: Rule] = [:]
        var ignored: [String: [[String]]] = [:]
        if let compare, !compare.isNull {
            guard let members = compare.object else {
                throw RPCError.invalidParams("\"compare\" must be an object of rules by method name: {\"<method>\": {\"ignore\": [...], \"sample\": 0.5}}")
            }
            for (method, value) in members {
                let field = "compare.\(method)"
                guard method == Self.anyMethod || declared.contains(method) else {
                    throw RPCError.invalidParams(
                        "\"compare\": module \(module) has no method \"\(method)\"; use its method names (\(declared.sorted().joined(separator: ", "))) or \"*\" for all")
                }
                guard let rule = value.object else {
                    throw RPCError.invalidParams("\"\(field)\" must be an object: {\"ignore\": [JSON pointers], \"sample\": 0 to 1}")
                }
                if let unknown = rule.keys.sorted().first(where: { $0 != "ignore" && $0 != "sample" }) {
                    throw RPCError.invalidParams("\"\(field)\" has an unknown member \"\(unknown)\"; a rule takes \"ignore\" and \"sample\"")
                }
                var parsed = Rule()
                if let sample = rule["sample"], !sample.isNull {
                    guard let share = sample.double, (0...1).contains(share) else {
                        throw RPCError.invalidParams("\"\(field).sample\" must be a share from 0 to 1 (0.5: every second call), got \(sample.text)")
                    }
                    parsed.sample = share
                }
                var pointers: [[String]] = []
                if let ignore = rule["ignore"], !ignore.isNull {
                    guard let list = ignore.array else {
                        throw RPCError.invalidParams("\"\(field).ignore\" must be an array of JSON pointers such as [\"/generatedAt\"]")
                    }
                    var texts: [String] = []
                    for (index, element) in list.enumerated() {
                        guard let pointer = element.string, let tokens = Self.tokens(pointer) else {
                            throw RPCError.invalidParams(
                                "\"\(field).ignore[\(index)]\" must be a JSON pointer starting with \"/\" (such as \"/generatedAt\"), got \(element.text)")
                        }
                        texts.append(pointer)
                        pointers.append(tokens)
                    }
                    parsed.ignore = texts
                }
                rules[method] = parsed
                ignored[method] = pointers
            }
        }
        if let keepSamples, !(0...Self.maxKeepSamples).contains(keepSamples) {
            throw RPCError.invalidParams("\"keepSamples\" must be 0 to \(Self.maxKeepSamples), got \(keepSamples)")
        }
        self.rules = rules
        self.keepSamples = keepSamples ?? Self.defaultKeepSamples
        self.ignored = ignored
    }

    func rule(for method: String) -> Rule? { rules[method] ?? rules[Self.anyMethod] }

    /// Whether two results of `method` count as the same.
    func same(_ method: String, _ serving: [UInt8], _ shadow: [UInt8]) -> Bool {
        guard let pointers = ignored[method] ?? ignored[Self.anyMethod], !pointers.isEmpty else { return serving == shadow }
        guard var a = try? JSONValue(parsing: serving), var b = try? JSONValue(parsing: shadow) else { return serving == shadow }
        for pointer in pointers {
            a.remove(pointer[...])
            b.remove(pointer[...])
        }
        return a == b
    }

    /// The reference tokens of a JSON pointer (`~1` is `/`, `~0` is `~`); nil when it is not
    /// one. The empty pointer (the whole result) is refused: it would ignore everything.
    static func tokens(_ pointer: String) -> [String]? {
        guard pointer.hasPrefix("/") else { return nil }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }
}

extension JSONValue {
    /// Removes the member or element the tokens lead to, if there is one.
    fileprivate mutating func remove(_ tokens: ArraySlice<String>) {
        guard let first = tokens.first else { return }
        let rest = tokens.dropFirst()
        switch self {
        case .object(var members):
            guard members[first] != nil else { return }
            if rest.isEmpty {
                members[first] = nil
            } else {
                members[first]!.remove(rest)
            }
            self = .object(members)
        case .array(var elements):
            guard let index = Int(first), elements.indices.contains(index) else { return }
            if rest.isEmpty {
                elements.remove(at: index)
            } else {
                elements[index].remove(rest)
            }
            self = .array(elements)
        default:
            return
        }
    }
}
