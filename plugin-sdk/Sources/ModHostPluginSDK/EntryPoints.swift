import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The C functions in every Swift plugin's descriptor. They are not generic (C function
/// pointers cannot be): `init` finds the plugin type in `PluginRegistry` by module id, the
/// others reach it through the instance pointer (an `AnyInstance`).
///
/// Threads: whatever thread the host uses; the host serializes them per instance (except
/// `handle` for concurrent plugins), and so does everything they call.
enum EntryPoints {
    static func install(in plugin: inout mh_plugin, stateful: Bool) {
        plugin.`init` = { info, error in EntryPoints.initInstance(info, error) }
        plugin.start = { instance, error in
            guard let instance else { return MH_ERROR }
            do {
                try EntryPoints.instance(instance).start()
                return MH_OK
            } catch let thrown {
                let object = EntryPoints.instance(instance)
                EntryPoints.write(PluginError(mapping: thrown).message, to: error, api: object.core.table.api)
                return MH_ERROR
            }
        }
        plugin.stop = { instance in
            guard let instance else { return }
            EntryPoints.instance(instance).stop()
        }
        plugin.destroy = { instance in
            guard let instance else { return }
            let object = Unmanaged<AnyInstance>.fromOpaque(instance)
            object.takeUnretainedValue().close()
            object.release()
        }
        plugin.handle = { instance, call, method, methodLength, params, paramsLength in
            guard let instance, let call, let method else { return MH_ERROR }
            let bytes = params.map { UnsafeRawBufferPointer(start: $0, count: paramsLength) }
            return EntryPoints.instance(instance).handle(
                call, method: method, length: methodLength,
                params: bytes.flatMap { $0.isEmpty ? nil : $0 } ?? EntryPoints.nullParams)
        }
        plugin.on_event = { instance, topic, topicLength, data, dataLength in
            guard let instance else { return }
            let json = data == nil || dataLength == 0 ? RawJSON("null") : RawJSON(Data(cBytes: data, count: dataLength))
            EntryPoints.instance(instance).onEvent(topic: String(cBytes: topic, count: topicLength), data: json)
        }
        guard stateful else { return }
        plugin.export_state = { instance, out in
            guard let instance else { return MH_ERROR }
            let object = EntryPoints.instance(instance)
            do {
                let state = try object.exportState()
                let status = state.withCBytes { object.core.table.api.pointee.out_write?(out, $0, $1) ?? MH_ERROR }
                return status == MH_OK ? MH_OK : MH_ERROR
            } catch {
                // export_state has no error sink: the host log is the only place for the reason.
                let reason = PluginError(mapping: error, decoding: "state").message
                PluginHost(core: object.core).log(.error, "export_state failed: \(reason)")
                return MH_ERROR
            }
        }
        plugin.import_state = { instance, state, stateLength, fromVersion, error in
            guard let instance else { return MH_ERROR }
            let object = EntryPoints.instance(instance)
            do {
                let version = fromVersion.map { String(cString: $0) } ?? ""
                try object.importState(Data(cBytes: state, count: stateLength), from: version)
                return MH_OK
            } catch let thrown {
                let reason = PluginError(mapping: thrown, decoding: "state").message
                EntryPoints.write(reason, to: error, api: object.core.table.api)
                return MH_ERROR
            }
        }
    }

    /// `init`: checks the host's ABI, finds the plugin type, creates the instance.
    static func initInstance(_ info: UnsafePointer<mh_init_info>?, _ error: OpaquePointer?) -> UnsafeMutableRawPointer? {
        guard let info, let api = info.pointee.host else { return nil }
        let hostMajor = api.pointee.abi_version >> 16
        guard hostMajor == UInt32(MH_ABI_MAJOR),
            info.pointee.struct_size >= MemoryLayout<mh_init_info>.size,
            api.pointee.struct_size >= MemoryLayout<mh_host_api>.size
        else {
            let hostVersion = "\(hostMajor).\(api.pointee.abi_version & 0xffff)"
            write("host ABI \(hostVersion) (init info \(info.pointee.struct_size) bytes, host table "
                    + "\(api.pointee.struct_size) bytes) is incompatible with the plugin's ABI "
                    + "\(MH_ABI_MAJOR).\(MH_ABI_MINOR)", to: error, api: api)
            return nil
        }
        let moduleID = info.pointee.module_id.map { String(cString: $0) }
        guard let runtime = PluginRegistry.shared.runtime(moduleID: moduleID) else {
            write("no Swift plugin type with id \"\(moduleID ?? "")\" in this library "
                    + "(mh_plugin_entry must return YourPlugin.pluginEntry())", to: error, api: api)
            return nil
        }
        return runtime.makeInstance(info.pointee, api: api, error: error)
    }

    /// Writes `message` to a lifecycle sink (an error message for the host).
    static func write(_ message: String, to sink: OpaquePointer?, api: UnsafePointer<mh_host_api>) {
        guard let sink else { return }
        _ = message.withCBytes { api.pointee.out_write?(sink, $0, $1) }
    }

    private static func instance(_ pointer: UnsafeMutableRawPointer) -> AnyInstance {
        Unmanaged<AnyInstance>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The params of a request without any, should a host pass none at all.
    private static var nullParams: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: StaticString("null").utf8Start, count: 4)
    }
}
