import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One instance of plugin type `P`, with the runtime it dispatches calls through.
final class Instance<P: Plugin>: AnyInstance {
    let plugin: P
    let runtime: PluginRuntime<P>

    init(plugin: P, runtime: PluginRuntime<P>, core: HostCore) {
        self.plugin = plugin
        self.runtime = runtime
        super.init(core: core)
    }

    override func start() throws {
        try plugin.start()
    }

    override func stop() {
        plugin.stop()
        tasks.cancelAll()
        core.stopped()
    }

    override func handle(_ call: OpaquePointer, method: UnsafePointer<CChar>, length: Int,
                         params: UnsafeRawBufferPointer) -> Int32 {
        let context = CallContext(call: call, params: params, core: core, tasks: tasks)
        guard let handler = runtime.handler(method, length: length) else {
            let name = String(cBytes: method, count: length)
            return context.fail(PluginError(code: -32601, "method not found: \(name)"))
        }
        // The handler (and the task of an async one, which inherits it) can read CallInfo.current.
        return CallInfo.$current.withValue(CallInfo(call: PendingCall(call: call), core: core)) {
            handler.invoke(plugin, context)
        }
    }

    override func onEvent(topic: String, data: RawJSON) {
        plugin.onEvent(topic: topic, data: data)
    }

    override func exportState() throws -> Data {
        guard let codec = runtime.stateCodec else { return Data() }
        return try codec.export(plugin, core)
    }

    override func importState(_ state: Data, from version: String) throws {
        guard let codec = runtime.stateCodec, !state.isEmpty else { return }
        try codec.import(plugin, state, version, core)
    }
}
