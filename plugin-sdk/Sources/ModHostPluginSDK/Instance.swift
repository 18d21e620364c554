import CModHost
import ModHostSupport
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
        // CallInfo.current reads the thread's slot (an async handler's task gets its own binding).
        return CallSlot.with(call, core) { handler.invoke(plugin, context) }
    }

    /// A registered handler for the topic, else the plugin's `onEvent`. A handler's failure
    /// (data that does not decode, an error thrown) is logged and the event dropped.
    override func onEvent(topic: String, data: UnsafeRawBufferPointer) {
        guard let handler = runtime.eventHandler(for: topic) else {
            plugin.onEvent(topic: topic, data: RawJSON(Data(data)))
            return
        }
        do {
            try handler.invoke(plugin, data, core)
        } catch {
            let message = PluginError(mapping: error, decoding: "event data").message
            PluginHost(core: core).log(.warning, "ignoring \(LogText.line(topic.prefix(200))) event: \(LogText.line(message.prefix(300)))")
        }
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
