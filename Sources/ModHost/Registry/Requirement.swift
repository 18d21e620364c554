/// A version made of dotted non-negative numbers ("1", "1.2", "1.2.3"), compared numerically,
/// missing components counting as 0. A pre-release or build suffix ("-beta", "+abc") is kept
/// for display and ignored in comparisons.
public struct SemanticVersion: Comparable, Sendable, CustomStringConvertible {
    public let components: [Int]
    public let description: String

    public init?(_ text: String) {
        let core = text.split(whereSeparator: { $0 == "-" || $0 == "+" }).first.map(String.init) ?? ""
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.count <= 4 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(part) else { return nil }
            numbers.append(value)
        }
        components = numbers
        description = text
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        for index in 0..<max(lhs.components.count, rhs.components.count) {
            let a = index < lhs.components.count ? lhs.components[index] : 0
            let b = index < rhs.components.count ? rhs.components[index] : 0
            if a != b { return a < b }
        }
        return false
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
}

/// One entry of a descriptor's `requires`: a module id and optional version constraints,
/// written `"token"`, `"token >=1.2"`, `"token >=1.2 <2"` (operators `>= > <= < =`).
public struct Requirement: Sendable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case atLeast = ">=", above = ">", atMost = "<=", below = "<", exactly = "="
    }
    public let id: String
    public let constraints: [(Operator, SemanticVersion)]
    public let description: String

    public init?(_ text: String) {
        let words = text.split(separator: " ").map(String.init)
        guard let id = words.first, PluginDescriptor.isValidID(id) else { return nil }
        var constraints: [(Operator, SemanticVersion)] = []
        for word in words.dropFirst() {
            // Two-character operators first, so ">=" is not read as ">".
            guard let op = Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
                .first(where: { word.hasPrefix($0.rawValue) }),
                let version = SemanticVersion(String(word.dropFirst(op.rawValue.count)))
            else { return nil }
            constraints.append((op, version))
        }
        self.id = id
        self.constraints = constraints
        description = text
    }

    public func isSatisfied(by version: SemanticVersion) -> Bool {
        constraints.allSatisfy { op, bound in
            switch op {
            case .atLeast: version >= bound
            case .above: version > bound
            case .atMost: version <= bound
            case .below: version < bound
            case .exactly: version == bound
            }
        }
    }
}
