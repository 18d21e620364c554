import CModHost
import Foundation
import Dispatch
import Synchronization

/// One initialized instance of a plugin image: the plugin's `void *instance` plus what the host
/// knows about it. Lifecycle entries are called by the registry with the module's mailbox paused,
/// so they never overlap with calls.
final class ModuleInstance: @unchecked Sendable {
    let image: PluginImage
    let generation: Int
    let context: ModuleContext
    let config: [UInt8]
    private(set) var pointer: UnsafeMutableRawPointer?
    /// This generation's call metrics, from its first start; nil with `--no-metrics`.
    private(set) var metrics: GenerationMetrics?
    private let stateValue = Atomic<UInt8>(ModuleState.loaded.rawValue)
    private let destroyed = Atomic<Bool>(false)

    var descriptor: PluginDescriptor { image.descriptor }
    var id: String { descriptor.id }

    var state: ModuleState {
        get { ModuleState(rawValue: stateValue.load(ordering: .acquiring))! }
        set { stateValue.store(newValue.rawValue, ordering: .releasing) }
    }
    var isAlive: Bool { !destroyed.load(ordering: .acquiring) }

    init(image: PluginImage, generation: Int, context: ModuleContext, config: [UInt8]) {
        self.image = image
        self.generation = generation
        self.context = context
        self.config = config
        CrashReport.setGeneration(image.crashEntry, generation)
    }

    /// Runs `body`, which enters the plugin's lifecycle entry or callback `name`, as the thread's
    /// crash frame (a crash in it names this module and the entry).
    @inline(__always)
    func entering<R>(_ name: StaticString, detail: UnsafeBufferPointer<CChar>? = nil, _ body: () -> R) -> R {
        CrashReport.entry(image.crashEntry, name, detail: detail, body)
    }

    /// Calls the plugin's `init`. Throws with the plugin's own message when it returns NULL.
    func initialize() throws(LoadError) {
        context.attach(self)
        var message: [UInt8] = []
        let created: UnsafeMutableRawPointer? = config.withUnsafeBufferPointer { configBytes in
            var info = mh_init_info()
            info.abi_version = MH_ABI_VERSION
            info.struct_size = UInt32(MemoryLayout<mh_init_info>.size)
            info.host = UnsafePointer(HostAPI.table)
            info.ctx = context.opaque
            info.config_json = UnsafeRawPointer(configBytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            info.config_len = configBytes.count
            info.data_dir = UnsafePointer(context.cDataDirectory)
            info.server_id = UnsafePointer(context.cServerID)
            info.module_id = UnsafePointer(context.cModuleID)
            info.flags = context.isShadow ? UInt64(MH_INIT_SHADOW) : 0
            return entering("init") { ByteSink.collect(into: &message) { sink in descriptor.initialize(&info, sink) } }
        }
        guard let created else {
            destroyed.store(true, ordering: .releasing)
            context.detach()
            context.retire()
            throw .initFailed(module: id, message: Self.text(message, otherwise: "init returned NULL without a message"))
        }
        pointer = created
    }

    func start() throws(LoadError) {
        if let start = descriptor.start {
            var message: [UInt8] = []
            let status = entering("start") { ByteSink.collect(into: &message) { sink in start(pointer, sink) } }
            guard status == MH_OK else {
                state = .failed
                throw .startFailed(module: id, message: Self.text(message, otherwise: "start returned \(status) without a message"))
            }
        }
        context.subscribeDescriptorTopics()
        // Once: a restart (after a failed swap, a rollback) keeps counting in the same series,
        // and the call path may be reading this meanwhile.
        if metrics == nil {
            metrics = context.runtime.metrics?.generation(
                module: id, generation: generation, version: descriptor.version, isShadow: context.isShadow,
                methods: Array(descriptor.methods.keys) + Array(descriptor.exports.keys))
        }
        state = .running
    }

    /// Stops the instance: no call reaches it afterwards; its timers and subscriptions end.
    func stop() {
        guard state == .running || state == .failed else { return }
        state = .stopped
        context.endActivity()
        entering("stop") { descriptor.stop?(pointer) }
        context.endActivity()
    }

    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if state == .running { stop() }
        context.endActivity()
        entering("destroy") { descriptor.destroy?(pointer) }
        context.endActivity()
        pointer = nil
        context.detach()
        context.retire()
    }

    /// The plugin's exported state (empty when it has no `export_state`). Call it after `stop`.
    func exportState() throws(SwapFailure) -> [UInt8] {
        guard let export = descriptor.exportState else { return [] }
        var state: [UInt8] = []
        let status = entering("export_state") { ByteSink.collect(into: &state) { sink in export(pointer, sink) } }
        guard status == MH_OK else { throw SwapFailure("\(id) \(descriptor.version): export_state returned \(status)") }
        return state
    }

    /// Hands state exported by `fromVersion` to the plugin's `import_state` (before `start`).
    /// Without `import_state` the state is dropped.
    func importState(_ state: [UInt8], from fromVersion: String) throws(SwapFailure) {
        guard let importState = descriptor.importState else { return }
        var message: [UInt8] = []
        let bytes = state + [0]
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                fromVersion.withCString { version in
                    entering("import_state") {
                        ByteSink.collect(into: &message) { sink in importState(pointer, chars.baseAddress, state.count, version, sink) }
                    }
                }
            }
        }
        guard status == MH_OK else {
            throw SwapFailure("\(id) \(descriptor.version): import_state failed: "
                + Self.text(message, otherwise: "it returned \(status) without a message"))
        }
    }

    /// Hands one call to the plugin's `handle`. Runs on the module's mailbox.
    @inline(__always)
    func run(_ call: Call) {
        call.started(metrics?.series(for: call.method))
        let name: PluginDescriptor.MethodName
        if let resolved = call.resolved, resolved.generation == generation {
            name = PluginDescriptor.MethodName(cString: resolved.name, length: resolved.length)
        } else if let found = descriptor.methods[call.method] {
            name = found
        } else if let export = descriptor.exports[call.method] {
            runExport(export, call)
            return
        } else {
            call.finish(error: .methodNotFound("\(id).\(call.method)", "module \(id) \(descriptor.version) has no such method"))
            return
        }
        let calls = CallTable.shared
        let token = calls.insert(call)
        let status = CrashReport.call(image.crashEntry, name.cString, name.length) {
            call.withParams { params, length in
                descriptor.handle!(pointer, OpaquePointer(bitPattern: UInt(token)), name.cString, name.length, params, length)
            }
        }
        // MH_PENDING: the call stays open until the plugin completes it or its deadline passes.
        if status != MH_PENDING, let open = calls.take(token) {
            open.finish(error: status == MH_OK
                ? .internalError("module \(id) returned from \(call.method) without completing the call")
                : RPCError(code: RPCError.moduleErrorCode, message: "module \(id) failed \(call.method) without a message",
                           data: JSONObject.module(id)))
        }
    }

    /// Calls a typed export through libffi with the call's params; runs on the module's mailbox.
    private func runExport(_ export: TypedExport, _ call: Call) {
        // Open in the call table while the function runs, like a handle: the caller is answered
        // -32004 at the deadline even if it is still running, and its late outcome is dropped.
        let calls = CallTable.shared
        let token = calls.insert(call)
        let outcome: Result<[UInt8], RPCError> = call.withParams { params, length in
            let bytes = UnsafeRawPointer(params).assumingMemoryBound(to: UInt8.self)
            let absent = length == 4 && memcmp(bytes, "null", 4) == 0
            let arguments = absent ? nil : UnsafeBufferPointer(start: bytes, count: length)
            return call.method.withCString { name in
                Result { () throws(RPCError) in
                    try CrashReport.call(image.crashEntry, name, call.method.utf8.count) { () throws(RPCError) in
                        try export.call(params: arguments, instance: pointer)
                    }
                }
            }
        }
        guard let open = calls.take(token) else { return }
        switch outcome {
        case .success(let result) where result.count > open.slot.maxResultBytes:
            open.finish(error: HostAPI.oversized(open, "result", result.count))
        case .success(let result):
            open.finish(result: result)
        case .failure(var failure):
            if failure.data == nil { failure.data = JSONObject.module(id) }
            open.finish(error: failure)
        }
    }

    private static func text(_ bytes: [UInt8], otherwise fallback: String) -> String {
        bytes.isEmpty ? fallback : String(decoding: bytes, as: UTF8.self)
    }
}

/// The `mh_out *` sink handed to lifecycle entries: the plugin appends bytes with `out_write`.
final class ByteSink {
    var bytes: [UInt8] = []

    /// Runs `body` with a sink and moves what the plugin wrote into `output`.
    static func collect<R>(into output: inout [UInt8], _ body: (OpaquePointer) -> R) -> R {
        let sink = ByteSink()
        let result = withExtendedLifetime(sink) {
            body(OpaquePointer(Unmanaged.passUnretained(sink).toOpaque()))
        }
        output = sink.bytes
        return result
    }
}
