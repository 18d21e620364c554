import Foundation
import ModHostTestKit

/// A host serving routing with health (and token, when this build has it) on a manual clock
/// starting at 2026-01-01T00:00:00Z, with the `routing` config section given. Nothing sleeps.
struct RoutingBench {
    static let start = ModuleHarness.defaultStart
    static var modules: [String] {
        let built = (try? HostProcess.buildDirectory().path) ?? ""
        return ["libHealth.so", "libRouting.so"] + (FileManager.default.fileExists(atPath: "\(built)/libToken.so") ? ["libToken.so"] : [])
    }

    let harness: ModuleHarness
    var host: HostProcess { harness.host }

    init(pools: [JSON] = [], extra: [String: JSON] = [:]) throws {
        var section = extra
        if !pools.isEmpty { section["pools"] = .array(pools) }
        harness = try ModuleHarness(modules: Self.modules, config: section.isEmpty ? [:] : ["routing": .object(section)])
    }

    init(_ harness: ModuleHarness) { self.harness = harness }

    /// A pool definition: `targets` as `provider.key.model` (weights 1 unless given).
    static func pool(_ name: String, _ targets: [String], weights: [Int]? = nil, strategy: String? = nil, fallback: [String]? = nil) -> JSON {
        var object: [String: JSON] = [
            "pool": .string(name),
            "targets": .array(targets.enumerated().map { index, target in
                var entry: [String: JSON] = ["target": .string(target)]
                if let weights { entry["weight"] = .int(Int64(weights[index])) }
                return .object(entry)
            }),
        ]
        if let strategy { object["strategy"] = .string(strategy) }
        if let fallback { object["fallback"] = .array(fallback.map { .string($0) }) }
        return .object(object)
    }

    /// The target a select picks for `session`.
    func select(_ session: String = "s", _ extra: [String: JSON] = [:]) throws -> String {
        var params = extra
        params["sessionId"] = .string(session)
        return try host.call("routing.select", .object(params))["target"].string ?? "?"
    }

    /// The failure a select answers (its `error` object).
    func selectFailure(_ session: String = "s") throws -> JSON {
        try host.expectFailure("routing.select", ["sessionId": .string(session)])
    }

    func apply(_ text: String, session: String = "s") throws -> JSON {
        try host.call("routing.applyInstructions", ["sessionId": .string(session), "text": .string(text)])
    }

    /// A 429 reported to health with a Retry-After of `seconds`.
    func rateLimit(_ key: String, seconds: Int) throws {
        try host.call("health.report", ["providerKey": .string(key), "status": 429, "retryAfter": .int(Int64(seconds))])
    }
}
