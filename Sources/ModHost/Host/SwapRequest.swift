/// `modules.swap {id, path, config?, mode?, …}`: the one code path for the RPC and for the
/// config file's `host.modules` entries (`ConfigModules`), so whatever modes the method
/// supports, config supports. Runs on the control queue.
enum SwapRequest {
    static func run(_ runtime: HostRuntime, params: [UInt8]?) throws(RPCError) -> [UInt8] {
        let request = try HostParams.decode(SwapParams.self, params)
        let (path, config) = try HostParams.decodeLoad(params)
        let drain = runtime.configuration.drainTimeout
        let mode = request.mode ?? "swap"
        let compares = !(request.compare == nil || request.compare == .null) || request.keepSamples != nil
        if compares && mode != "shadow" {
            throw RPCError.invalidParams("\"compare\" and \"keepSamples\" tune a shadow: give them with mode \"shadow\"")
        }
        if (request.percent != nil || request.stickyKey != nil) && mode != "canary" {
            throw RPCError.invalidParams("\"percent\" and \"stickyKey\" shape a canary: give them with mode \"canary\"")
        }
        let gated = !(request.gates == nil || request.gates == .null)
        switch mode {
        case "swap":
            if gated { throw RPCError.invalidParams("\"gates\" watch a shadow or a canary: give them with mode \"shadow\" or \"canary\"") }
            return try HostParams.encode(runtime.registry.swap(request.id, path: path, config: config, drainTimeout: drain))
        case "shadow":
            return try HostParams.encode(runtime.registry.startShadow(
                request.id, path: path, config: config, compare: request.compare, keepSamples: request.keepSamples,
                gates: request.gates, drainTimeout: drain))
        case "canary":
            guard let percent = request.percent else {
                throw RPCError.invalidParams("missing field \"percent\": the share of calls (1 to 99) the canary takes")
            }
            return try HostParams.encode(runtime.registry.startCanary(
                request.id, path: path, config: config, percent: percent, stickyKey: request.stickyKey, gates: request.gates,
                drainTimeout: drain))
        default: throw RPCError.invalidParams("\"mode\" must be \"swap\", \"shadow\" or \"canary\"")
        }
    }
}
