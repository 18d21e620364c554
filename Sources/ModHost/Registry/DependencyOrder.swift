/// Orders plugins so every module starts after what it requires, and explains what cannot start.
enum DependencyOrder {
    struct Failure {
        let id: String
        let error: LoadError
    }

    /// - Parameters:
    ///   - candidates: the descriptors to start, by id (ids are unique here).
    ///   - running: versions of modules already running, which candidates may require.
    /// - Returns: candidate ids in start order, and the candidates that cannot start, with why.
    static func resolve(_ candidates: [PluginDescriptor], running: [String: SemanticVersion]) -> (order: [String], failures: [Failure]) {
        let byID = Dictionary(candidates.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var order: [String] = []
        var failed: [String: LoadError] = [:]
        var state: [String: Bool] = [:]  // false: on the current path, true: done
        var path: [String] = []

        func visit(_ id: String) {
            if state[id] == true { return }
            guard let descriptor = byID[id] else { return }
            state[id] = false
            path.append(id)
            defer {
                path.removeLast()
                state[id] = true
            }
            for requirement in descriptor.requires {
                if let candidate = byID[requirement.id] {
                    if state[requirement.id] == false {
                        // A cycle: everything on the path from the required module back to here.
                        let start = path.firstIndex(of: requirement.id)!
                        let cycle = Array(path[start...]) + [requirement.id]
                        for member in path[start...] where failed[member] == nil {
                            failed[member] = .dependencyCycle(cycle)
                        }
                        return
                    }
                    visit(requirement.id)
                    if failed[requirement.id] != nil {
                        failed[id] = failed[id] ?? .unmetRequirement(module: id, "\(requirement.id), which cannot start: \(failed[requirement.id]!)")
                        return
                    }
                    if let version = SemanticVersion(candidate.version), !requirement.isSatisfied(by: version) {
                        failed[id] = .unmetRequirement(module: id, "\"\(requirement)\" but \(requirement.id) is version \(candidate.version)")
                        return
                    }
                } else if let version = running[requirement.id] {
                    if !requirement.isSatisfied(by: version) {
                        failed[id] = .unmetRequirement(module: id, "\"\(requirement)\" but \(requirement.id) is version \(version)")
                        return
                    }
                } else {
                    failed[id] = .unmetRequirement(module: id, "\"\(requirement)\", which is not loaded")
                    return
                }
            }
            if failed[id] == nil { order.append(id) }
        }

        for descriptor in candidates { visit(descriptor.id) }
        let failures = candidates.compactMap { descriptor in failed[descriptor.id].map { Failure(id: descriptor.id, error: $0) } }
        return (order.filter { failed[$0] == nil }, failures)
    }
}
