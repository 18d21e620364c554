/// Applying instructions to a session's state, left to right (MODULES.md's grammar).
extension SessionState {
    /// Applies one instruction; a marker that cannot apply throws and changes nothing.
    public mutating func apply(_ instruction: Instruction, resolver: Resolver) throws(MarkerError) {
        switch instruction {
        case .clear:
            forcedTarget = nil
            stickyTarget = nil
            allowedProviders = []
            disabledProviders = []
            disabledKeys = []
            disabledModels = []
        case .force(let path):
            forcedTarget = try resolver.resolve(path).text
        case .sticky(let path):
            stickyTarget = try resolver.resolve(path).text
        case .allow(let providers):
            allowedProviders = Self.unique(providers)
        case .disable(let paths):
            var providers: [String] = [], keys: [String] = [], models: [String] = []
            for resolved in try Self.resolveAll(paths, resolver, verb: "disable") {
                switch resolved {
                case .provider(let p): providers.append(p)
                case .key: keys.append(resolved.text)
                case .model: models.append(resolved.text)
                case .keyModel: break
                }
            }
            disabledProviders = Self.unique(providers)
            disabledKeys = Self.unique(keys)
            disabledModels = Self.unique(models)
        case .enable(let paths):
            for resolved in try Self.resolveAll(paths, resolver, verb: "enable") {
                switch resolved {
                case .provider(let p): disabledProviders.removeAll { $0 == p }
                case .key: disabledKeys.removeAll { $0 == resolved.text }
                case .model: disabledModels.removeAll { $0 == resolved.text }
                case .keyModel: break
                }
            }
        case .stopMessage(let text, let max):
            stopMessage = StopMessage(text: text, max: max)
        case .stopMessageClear:
            stopMessage = nil
        }
    }

    /// Every path resolved, or the first that cannot be (`provider.key.model` names no
    /// provider, key or model to disable).
    static func resolveAll(_ paths: [Path], _ resolver: Resolver, verb: String) throws(MarkerError) -> [Resolved] {
        var resolved: [Resolved] = []
        for path in paths {
            let one = try resolver.resolve(path)
            if case .keyModel = one {
                throw MarkerError("\(verb) names a provider, a key (provider.key, provider.N) or a model (provider.model), not provider.key.model \"\(Names.clip(path.text))\"")
            }
            resolved.append(one)
        }
        return resolved
    }

    static func unique(_ items: [String]) -> [String] {
        var seen: Set<String> = []
        return items.filter { seen.insert($0).inserted }
    }
}
