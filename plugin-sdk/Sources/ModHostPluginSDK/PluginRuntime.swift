import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the C entry points need from a plugin type, without knowing the type.
protocol AnyPluginRuntime: AnyObject, Sendable {
    /// Creates an instance for the host's `init`; returns the retained opaque pointer, or
    /// `nil` after writing the reason to `error`.
    ///
    /// - Parameters:
    ///   - info: the host's `mh_init_info`, copied to its `struct_size` (newer fields zero).
    ///   - tableSize: the host table's `struct_size`.
    func makeInstance(_ info: mh_init_info, api: UnsafePointer<mh_host_api>, tableSize: Int,
                      error: OpaquePointer?) -> UnsafeMutableRawPointer?
}

/// Everything about plugin type `P` that is built once per process: its method table and
/// state codec. Lives in `PluginRegistry` forever, like the descriptor.
final class PluginRuntime<P: Plugin>: AnyPluginRuntime {
    private let handlers: [String: MethodHandler<P>]
    /// Handlers by the address of the descriptor's own method strings: the host passes those
    /// very pointers to `handle`, so most lookups need no string at all.
    private let handlersByAddress: [Int: MethodHandler<P>]
    /// The event handlers (`Methods.on`).
    private let events: Methods<P>
    let stateCodec: StateCodec<P>?

    init(methods: Methods<P>, methodNames: [UnsafePointer<CChar>]) {
        handlers = methods.handlers
        events = methods
        var byAddress: [Int: MethodHandler<P>] = [:]
        for (name, pointer) in zip(methods.names, methodNames) {
            byAddress[Int(bitPattern: pointer)] = methods.handlers[name]
        }
        handlersByAddress = byAddress
        stateCodec = StateCodec.forPlugin(P.self)
    }

    func handler(_ method: UnsafePointer<CChar>, length: Int) -> MethodHandler<P>? {
        handlersByAddress[Int(bitPattern: method)] ?? handlers[String(cBytes: method, count: length)]
    }

    func eventHandler(for topic: String) -> EventHandler<P>? {
        events.eventHandler(for: topic)
    }

    func makeInstance(_ info: mh_init_info, api: UnsafePointer<mh_host_api>, tableSize: Int,
                      error sink: OpaquePointer?) -> UnsafeMutableRawPointer? {
        guard let context = info.ctx else {
            EntryPoints.write("init: the host passed no context", to: sink, api: api)
            return nil
        }
        let core = HostCore(
            table: HostTable(copying: api, size: tableSize, context: context),
            moduleID: info.module_id.map { String(cString: $0) } ?? P.id,
            serverID: info.server_id.map { String(cString: $0) } ?? "",
            dataDirectory: info.data_dir.map { String(cString: $0) } ?? "",
            isShadow: info.flags & UInt64(MH_INIT_SHADOW) != 0)
        let config = info.config_json == nil || info.config_len == 0
            ? RawJSON("{}") : RawJSON(Data(cBytes: info.config_json, count: info.config_len))
        do {
            let plugin = try P(host: PluginHost(core: core), config: config)
            let instance: AnyInstance = Instance(plugin: plugin, runtime: self, core: core)
            return Unmanaged.passRetained(instance).toOpaque()
        } catch {
            core.close()
            EntryPoints.write(PluginError(mapping: error, decoding: "config").message, to: sink, api: api)
            return nil
        }
    }
}
