import CModHost
import Foundation
import ModHostSupport

/// A plugin's `mh_plugin` descriptor, validated and copied into Swift values at load.
///
/// Function pointers and the C strings of method names point into the plugin image, which stays
/// mapped for as long as anything refers to it.
struct PluginDescriptor: @unchecked Sendable {
    struct MethodName {
        let cString: UnsafePointer<CChar>
        let length: Int
    }

    let abiVersion: UInt32
    let id: String
    let version: String
    let description: String
    let requires: [Requirement]
    let subscriptions: [String]
    /// Method names in descriptor order.
    let methodNames: [String]
    let methods: [String: MethodName]
    /// Typed exports (ABI 1.1), by name, and their names in descriptor order.
    let exports: [String: TypedExport]
    let exportNames: [String]
    let flags: UInt64

    let initialize: @convention(c) (UnsafePointer<mh_init_info>?, OpaquePointer?) -> UnsafeMutableRawPointer?
    let start: (@convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> Int32)?
    let stop: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    let destroy: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    let handle: (@convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int) -> Int32)?
    let onEvent: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int) -> Void)?
    let exportState: (@convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> Int32)?
    let importState: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, OpaquePointer?) -> Int32)?

    var isConcurrent: Bool { flags & UInt64(MH_FLAG_CONCURRENT) != 0 }
    var isUnloadable: Bool { flags & UInt64(MH_FLAG_UNLOADABLE) != 0 }
    /// Whether two generations may serve at once, sharing the store (a canary).
    var allowsTwoInstances: Bool { flags & UInt64(MH_FLAG_MULTI_INSTANCE) != 0 }
    var abiVersionString: String { VersionedStruct.versionText(abiVersion) }

    /// Ids the host keeps for its own methods (`host.status`, `modules.load`, …).
    static let reservedIDs: Set<String> = ["host", "modules", "events", "clock", "rpc"]

    /// Reads and validates a descriptor. Every refusal names what is wrong.
    ///
    /// The descriptor is read through `VersionedStruct`: only its own `struct_size` bytes, so a
    /// 1.0 descriptor that ends right before an unmapped page is read safely, fields of a later
    /// minor are absent (zero), and fields of a minor newer than the host's are ignored.
    init(reading pointer: UnsafePointer<mh_plugin>) throws(LoadError) {
        let header = VersionedStruct.header(at: pointer)
        let abi = header.abiVersion
        guard abi >> 16 == MH_ABI_VERSION >> 16 else {
            throw .abiMismatch(plugin: header.versionText, host: Self.hostVersion)
        }
        // Every 1.x descriptor has the fields of ABI 1.0; later minors only append, and their
        // fields are read only when struct_size covers them.
        if let missing = Self.abi10Fields.first(where: { $0.end > header.size }) {
            throw .structTooSmall(StructTooSmall(
                what: "descriptor", structName: "mh_plugin", size: header.size, field: missing.name, needed: missing.end,
                rule: "every ABI 1.x mh_plugin has the \(Self.abi10Size) bytes of ABI 1.0",
                pluginABI: header.versionText, hostABI: Self.hostVersion))
        }
        let plugin = VersionedStruct.copy(mh_plugin.self, from: pointer, size: header.size)

        guard let idPointer = plugin.id else { throw .badDescriptor("id is missing") }
        let id = String(cString: idPointer)
        guard Self.isValidID(id) else {
            throw .badDescriptor("id \"\(id)\" is malformed: it must match [a-z][a-z0-9_-]{0,63}")
        }
        guard !Self.reservedIDs.contains(id) else { throw .badDescriptor("id \"\(id)\" is reserved for the host's own methods") }
        guard let versionPointer = plugin.version, let version = SemanticVersion(String(cString: versionPointer)) else {
            throw .badDescriptor("module \(id): version is missing or not dotted numbers (e.g. \"1.2.0\")")
        }
        guard let initialize = plugin.`init` else { throw .badDescriptor("module \(id): init is missing") }

        var requires: [Requirement] = []
        for text in Self.strings(plugin.requires) {
            guard let requirement = Requirement(text) else {
                throw .badDescriptor("module \(id): requirement \"\(text)\" is malformed (expected \"id\" or \"id >=1.0 <2\")")
            }
            requires.append(requirement)
        }
        var methods: [String: MethodName] = [:]
        var names: [String] = []
        if let list = plugin.methods {
            var index = 0
            while let name = list[index] {
                let text = String(cString: name)
                guard !text.isEmpty, !text.utf8.contains(where: { $0 <= 0x20 }) else {
                    throw .badDescriptor("module \(id): method name \"\(text)\" is empty or contains white space")
                }
                guard methods[text] == nil else { throw .badDescriptor("module \(id): method \"\(text)\" is listed twice") }
                methods[text] = MethodName(cString: name, length: strlen(name))
                names.append(text)
                index += 1
            }
        }
        if !methods.isEmpty && plugin.handle == nil {
            throw .badDescriptor("module \(id): it lists methods but has no handle function")
        }
        let (exports, exportNames) = try Self.readExports(plugin, header: header, module: id, methods: methods)

        self.abiVersion = abi
        self.id = id
        self.version = version.description
        self.description = plugin.description.map { String(cString: $0) } ?? ""
        self.requires = requires
        self.subscriptions = Self.strings(plugin.subscriptions)
        self.methodNames = names
        self.methods = methods
        self.exports = exports
        self.exportNames = exportNames
        self.flags = plugin.flags
        self.initialize = initialize
        self.start = plugin.start
        self.stop = plugin.stop
        self.destroy = plugin.destroy
        self.handle = plugin.handle
        self.onEvent = plugin.on_event
        self.exportState = plugin.export_state
        self.importState = plugin.import_state
    }

    /// The host's ABI, `"1.2"`.
    static let hostVersion = "\(MH_ABI_MAJOR).\(MH_ABI_MINOR)"

    /// The size of ABI 1.0's `mh_plugin`: everything before the fields 1.1 appended.
    static let abi10Size = MemoryLayout<mh_plugin>.offset(of: \mh_plugin.exports)!

    /// The fields of ABI 1.0's `mh_plugin` after the header, each with the `struct_size` that
    /// covers it: the first one a descriptor does not cover is the one its refusal names.
    static let abi10Fields: [(name: String, end: Int)] = [
        ("id", VersionedStruct.end(of: \mh_plugin.id)), ("version", VersionedStruct.end(of: \mh_plugin.version)),
        ("description", VersionedStruct.end(of: \mh_plugin.description)),
        ("requires", VersionedStruct.end(of: \mh_plugin.requires)),
        ("subscriptions", VersionedStruct.end(of: \mh_plugin.subscriptions)),
        ("methods", VersionedStruct.end(of: \mh_plugin.methods)), ("flags", VersionedStruct.end(of: \mh_plugin.flags)),
        ("init", VersionedStruct.end(of: \mh_plugin.`init`)), ("start", VersionedStruct.end(of: \mh_plugin.start)),
        ("stop", VersionedStruct.end(of: \mh_plugin.stop)), ("destroy", VersionedStruct.end(of: \mh_plugin.destroy)),
        ("handle", VersionedStruct.end(of: \mh_plugin.handle)), ("on_event", VersionedStruct.end(of: \mh_plugin.on_event)),
        ("export_state", VersionedStruct.end(of: \mh_plugin.export_state)),
        ("import_state", VersionedStruct.end(of: \mh_plugin.import_state)),
    ]

    static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), bytes.count <= 64 else {
            return false
        }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    static func strings(_ list: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
        guard let list else { return [] }
        var result: [String] = []
        var index = 0
        while let item = list[index] {
            result.append(String(cString: item))
            index += 1
        }
        return result
    }
}
