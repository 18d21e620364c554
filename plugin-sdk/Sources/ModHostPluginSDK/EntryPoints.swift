import CModHost
import ModHostSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The C functions in every Swift plugin's descriptor. They are not generic (C function
/// pointers cannot be): `init` finds the plugin type in `PluginRegistry` by module id, the
/// others reach it through the instance pointer (an `AnyInstance`).
///
/// Threads: whatever thread the host uses. The host runs them one at a time per instance, or,
/// for a plugin that `isConcurrent`, all but the lifecycle entries possibly at once
/// (modhost.h, "Threading"); nothing here adds a lock or an order of its own.
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
            return HostThread.entry {
                EntryPoints.instance(instance).handle(
                    call, method: method, length: methodLength,
                    params: bytes.flatMap { $0.isEmpty ? nil : $0 } ?? EntryPoints.nullParams)
            }
        }
        plugin.on_event = { instance, topic, topicLength, data, dataLength in
            guard let instance else { return }
            let bytes = data.map { UnsafeRawBufferPointer(start: $0, count: dataLength) }
            HostThread.entry {
                EntryPoints.instance(instance).onEvent(
                    topic: String(cBytes: topic, count: topicLength),
                    data: bytes.flatMap { $0.isEmpty ? nil : $0 } ?? EntryPoints.nullParams)
            }
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
    ///
    /// The minor-version policy of modhost.h, as the host applies it to plugins: any host of
    /// the same major will do. `mh_init_info` and the host table are read through
    /// `VersionedStruct` (only their own `struct_size` bytes, the rest zero), and they must hold
    /// what every 1.x host has (the fields of ABI 1.0); the services a later minor added are
    /// checked for one by one when used, so they fail clearly on an older host.
    static func initInstance(_ pointer: UnsafePointer<mh_init_info>?, _ error: OpaquePointer?) -> UnsafeMutableRawPointer? {
        guard let pointer else { return nil }
        let infoSize = VersionedStruct.header(at: pointer).size
        let info = VersionedStruct.copy(mh_init_info.self, from: pointer, size: infoSize)
        guard VersionedStruct.covers(\mh_init_info.host, size: infoSize), let api = info.host else { return nil }
        let table = VersionedStruct.header(at: api)
        guard table.abiVersion >> 16 == UInt32(MH_ABI_MAJOR),
            VersionedStruct.covers(\mh_init_info.module_id, size: infoSize),
            VersionedStruct.covers(\mh_host_api.timer_cancel, size: table.size)
        else {
            // Only the 1.0 part of the table can be trusted here, and only when it is there.
            let write = table.abiVersion >> 16 == UInt32(MH_ABI_MAJOR) && VersionedStruct.covers(\mh_host_api.out_write, size: table.size)
            if write {
                Self.write("host ABI \(table.versionText) (init info \(infoSize) bytes, host table \(table.size) bytes) lacks "
                        + "what every ABI 1.x host has; the plugin is built against ABI \(MH_ABI_MAJOR).\(MH_ABI_MINOR)",
                        to: error, api: api)
            }
            return nil
        }
        let moduleID = info.module_id.map { String(cString: $0) }
        guard let runtime = PluginRegistry.shared.runtime(moduleID: moduleID) else {
            write("no Swift plugin type with id \"\(moduleID ?? "")\" in this library "
                    + "(mh_plugin_entry must return YourPlugin.pluginEntry())", to: error, api: api)
            return nil
        }
        return runtime.makeInstance(info, api: api, tableSize: table.size, error: error)
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
