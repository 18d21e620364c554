import CModHost
import Foundation

/// Loads a plugin the way modhost does, minus dlopen: takes the descriptor its entry returns
/// and calls the descriptor's C functions with a `FakeHost`.
final class PluginHarness {
    let host: FakeHost
    let descriptor: UnsafePointer<mh_plugin>
    private(set) var instance: UnsafeMutableRawPointer?
    /// What `init` wrote to its error sink.
    let initError: String
    /// Strings `init` borrows until `destroy`.
    private let strings: [UnsafeMutablePointer<CChar>]

    /// - Parameters:
    ///   - host: the fake host (of ABI 1.2 unless made otherwise).
    ///   - infoSize: the `mh_init_info` `struct_size` passed to `init` (a 1.1 host's is smaller).
    ///   - infoFlags: `mh_init_info.flags` (`MH_INIT_SHADOW`).
    init(entry: UnsafeRawPointer, config: String = "{}", moduleID: String? = nil, host: FakeHost = FakeHost(),
         infoSize: Int = MemoryLayout<mh_init_info>.size, infoFlags: UInt64 = 0) {
        self.host = host
        let descriptor = entry.assumingMemoryBound(to: mh_plugin.self)
        self.descriptor = descriptor
        let id = strdup(moduleID ?? String(cString: descriptor.pointee.id))!
        let server = strdup("test-server")!
        let dataDir = strdup("/tmp/modhost-sdk-tests")!
        strings = [id, server, dataDir]
        let sink = FakeSink()
        let fakeHost = host
        instance = config.withCString { configJSON in
            var info = mh_init_info()
            info.abi_version = fakeHost.api.pointee.abi_version
            info.struct_size = UInt32(infoSize)
            info.flags = infoFlags
            info.host = UnsafePointer(fakeHost.api)
            info.ctx = fakeHost.context
            info.config_json = configJSON
            info.config_len = strlen(configJSON)
            info.module_id = UnsafePointer(id)
            info.server_id = UnsafePointer(server)
            info.data_dir = UnsafePointer(dataDir)
            return descriptor.pointee.`init`!(&info, sink.pointer)
        }
        initError = sink.text
    }

    deinit {
        destroy()
        strings.forEach { free($0) }
    }

    /// The descriptor's NULL-terminated string list as an array.
    static func list(_ list: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
        guard var cursor = list else { return [] }
        var strings: [String] = []
        while let string = cursor.pointee {
            strings.append(String(cString: string))
            cursor += 1
        }
        return strings
    }

    /// Calls `handle`. By default `method` is the descriptor's own string, as the host passes it.
    func call(_ method: String, _ params: String = "null", descriptorString: Bool = true) -> (status: Int32, call: FakeCall) {
        let call = FakeCall()
        let own = descriptorString ? methodPointer(method) : nil
        let copy = own == nil ? strdup(method) : nil
        defer { free(copy) }
        let name = own ?? UnsafePointer(copy!)
        let status = params.withCString {
            descriptor.pointee.handle!(instance, call.pointer, name, strlen(name), $0, strlen($0))
        }
        return (status, call)
    }

    /// Calls `handle` and returns how the call was completed before `handle` returned.
    func outcome(_ method: String, _ params: String = "null") -> FakeCall.Outcome? {
        let (status, call) = call(method, params)
        return status == MH_OK ? call.outcome : nil
    }

    func start() -> (status: Int32, error: String) {
        let sink = FakeSink()
        let status = descriptor.pointee.start!(instance, sink.pointer)
        return (status, sink.text)
    }

    func stop() {
        descriptor.pointee.stop!(instance)
    }

    func event(_ topic: String, _ data: String) {
        topic.withCString { topic in
            data.withCString { descriptor.pointee.on_event!(instance, topic, strlen(topic), $0, strlen($0)) }
        }
    }

    func exportState() -> (status: Int32, state: String) {
        let sink = FakeSink()
        let status = descriptor.pointee.export_state!(instance, sink.pointer)
        return (status, sink.text)
    }

    func importState(_ state: String, from version: String) -> (status: Int32, error: String) {
        let sink = FakeSink()
        let status = state.withCString { state in
            version.withCString { descriptor.pointee.import_state!(instance, state, strlen(state), $0, sink.pointer) }
        }
        return (status, sink.text)
    }

    func destroy() {
        guard let instance else { return }
        descriptor.pointee.destroy?(instance)
        self.instance = nil
    }

    private func methodPointer(_ name: String) -> UnsafePointer<CChar>? {
        guard var cursor = descriptor.pointee.methods else { return nil }
        while let string = cursor.pointee {
            if String(cString: string) == name { return string }
            cursor += 1
        }
        return nil
    }
}
