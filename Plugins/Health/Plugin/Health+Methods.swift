import HealthCore
import ModHostPluginSDK
import ModuleContracts

extension Health {
    static func register(_ methods: inout Methods<Health>) {
        methods.add("report") { (health, params: ProviderError) in
            try health.perform { engine, now, effects throws(HealthInputError) in
                try engine.report(params.input, at: now, effects: &effects)
            }
        }
        methods.add("reportSuccess") { (health, params: KeyParams) in
            try health.perform { engine, now, effects throws(HealthInputError) in
                try engine.reportSuccess(params.providerKey, at: now, effects: &effects)
            }
        }
        methods.add("available") { (health, params: AvailableRequest) throws -> AvailableResult in
            for (index, key) in params.providerKeys.enumerated() {
                do throws(HealthInputError) {
                    try ReportInput.check(providerKey: key, field: "providerKeys[\(index)]")
                } catch {
                    throw PluginError.invalidParams(error.message)
                }
            }
            return try health.perform { engine, now, effects in
                engine.available(params.providerKeys, at: now, peek: params.peek ?? false, effects: &effects)
            }
        }
        methods.add("status") { (health, params: OptionalKeyParams) in
            try health.perform { engine, now, effects throws(HealthInputError) -> StatusAnswer in
                if let key = params.providerKey { return .one(try engine.status(of: key, at: now, effects: &effects)) }
                return .all(engine.statusOfAll(at: now, effects: &effects))
            }
        }
        methods.add("snapshot") { health in
            try health.perform { engine, now, effects in engine.snapshot(at: now, effects: &effects) }
        }
        methods.add("reset") { (health, params: OptionalKeyParams) in
            try health.perform { engine, now, effects throws(HealthInputError) in
                ResetResult(reset: try engine.reset(params.providerKey, at: now, effects: &effects))
            }
        }
    }
}
