/// What a path names once read against the pools: `p.x` is a key when `x` is a configured key
/// alias of `p` (or `N`, the N-th key of `p`, 1-based, in config order), else a model.
public enum Resolved: Equatable, Sendable {
    case provider(String)
    case key(provider: String, key: String)
    case model(provider: String, model: String)
    case keyModel(provider: String, key: String, model: String)

    public var text: String {
        switch self {
        case .provider(let p): p
        case .key(let p, let k): "\(p).\(k)"
        case .model(let p, let m): "\(p).\(m)"
        case .keyModel(let p, let k, let m): "\(p).\(k).\(m)"
        }
    }

    public var provider: String {
        switch self {
        case .provider(let p), .key(let p, _), .model(let p, _), .keyModel(let p, _, _): p
        }
    }

    /// Whether `target` is one this names.
    public func matches(_ target: Target) -> Bool {
        switch self {
        case .provider(let p): target.provider == p
        case .key(let p, let k): target.provider == p && target.key == k
        case .model(let p, let m): target.provider == p && target.model == m
        case .keyModel(let p, let k, let m): target.provider == p && target.key == k && target.model == m
        }
    }
}

/// The providers' key aliases in config order (pools in their order, targets in theirs).
public struct Resolver: Sendable {
    var keys: [String: [String]] = [:]

    public init(pools: [Pool]) {
        for pool in pools {
            for target in pool.targets where !(keys[target.provider]?.contains(target.key) ?? false) {
                keys[target.provider, default: []].append(target.key)
            }
        }
    }

    /// The aliases of `provider`, in config order.
    public func keys(of provider: String) -> [String] { keys[provider] ?? [] }

    public func resolve(_ path: Path) throws(MarkerError) -> Resolved {
        try resolve(provider: path.provider, rest: path.rest)
    }

    /// Reads `p.x…` text back (a stored forced or sticky target).
    public func resolve(text: String) -> Resolved? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return try? resolve(provider: String(parts[0]), rest: parts.count == 2 ? String(parts[1]) : nil)
    }

    func resolve(provider: String, rest: String?) throws(MarkerError) -> Resolved {
        guard let rest else { return .provider(provider) }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let first = String(parts[0])
        let model = parts.count == 2 ? String(parts[1]) : nil
        let aliases = keys(of: provider)
        var key: String?
        if let index = Int(first), first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard index >= 1, index <= aliases.count else {
                throw MarkerError(aliases.isEmpty ? "\(provider).\(first): no pool has a key of provider \(provider)"
                    : "\(provider).\(first): provider \(provider) has \(aliases.count) keys (\(aliases.joined(separator: ", "))), so N is 1 to \(aliases.count)")
            }
            key = aliases[index - 1]
        } else if aliases.contains(first) {
            key = first
        }
        guard let key else { return .model(provider: provider, model: rest) }
        return model.map { .keyModel(provider: provider, key: key, model: $0) } ?? .key(provider: provider, key: key)
    }
}
