/// `modules.swap {id, path, config?, mode?, …}`: the one code path for the RPC and for the
/// config file's `host.modules` entries (`ConfigModules`), so whatever modes the method
/// supports, config supports. Runs on the control queue.
enum SwapRequest {
    static func run(_ runtime: HostRuntime, params: [UInt8]?) throws(RPCError) -> [UInt8] {
        let request = try HostParams.decode(SwapParams.self, params)
        let (path, config) = try HostParams.decodeLoad(params)
        let drain = runtime.configuration.drainTimeout
        switch request.mode ?? "swap" {
        case "swap":
            guard request.compare == nil || request.compare == .null, request.keepSamples == nil else {
                throw RPCError.invalidParams("\"compare\" and \"keepSamples\" tune a shadow: give them with mode \"shadow\"")
            }
            return try HostParams.encode(runtime.registry.swap(request.id, path: path, config: config, drainTimeout: drain))
        case "shadow":
            return try HostParams.encode(runtime.registry.startShadow(
                request.id, path: path, config: config, compare: request.compare, keepSamples: request.keepSamples, drainTimeout: drain))
        default: throw RPCError.invalidParams("\"mode\" must be \"swap\" or \"shadow\"")
        }
    }
}
