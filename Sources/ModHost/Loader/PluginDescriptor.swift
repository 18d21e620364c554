import CModHost
import Foundation

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
    var abiVersionString: String { "\(abiVersion >> 16).\(abiVersion & 0xFFFF)" }

    /// Ids the host keeps for its own methods (`host.status`, `modules.load`, …).
    static let reservedIDs: Set<String> = ["host", "modules", "events", "clock", "rpc"]

    /// Reads and validates a descriptor. Every refusal names what is wrong.
    init(reading pointer: UnsafePointer<mh_plugin>) throws(LoadError) {
        let header = UnsafeRawPointer(pointer).load(as: (UInt32, UInt32).self)
        let (abi, size) = header
        let hostABI = MH_ABI_VERSION
        guard abi >> 16 == hostABI >> 16 else {
            throw .abiMismatch(plugin: "\(abi >> 16).\(abi & 0xFFFF)", host: "\(MH_ABI_MAJOR).\(MH_ABI_MINOR)")
        }
        // Every field of ABI 1.0 must be there; later minors only append, and their fields are
        // read only when struct_size covers them.
        let minimum = Self.abi10Size
        guard Int(size) >= minimum else { throw .structTooSmall(size: Int(size), minimum: minimum) }
        let plugin = pointer.pointee

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
        let (exports, exportNames) = try Self.readExports(plugin, size: Int(size), module: id, methods: methods)

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

    /// The size of ABI 1.0's `mh_plugin`: everything before the fields 1.1 appended.
    static let abi10Size = MemoryLayout<mh_plugin>.offset(of: \mh_plugin.exports)!

    /// Reads the typed exports of an ABI 1.1 descriptor (none when `size` does not cover them)
    /// and prepares each call interface; a bad one fails the load naming the export.
    private static func readExports(_ plugin: mh_plugin, size: Int, module id: String, methods: [String: MethodName])
        throws(LoadError) -> ([String: TypedExport], [String])
    {
        let end = MemoryLayout<mh_plugin>.offset(of: \mh_plugin.export_count)! + MemoryLayout<Int>.size
        guard size >= end, plugin.export_count > 0 else { return ([:], []) }
        guard let list = plugin.exports else {
            throw .badDescriptor("module \(id): export_count is \(plugin.export_count) but exports is NULL")
        }
        guard plugin.export_count <= 4096 else { throw .badDescriptor("module \(id): export_count \(plugin.export_count) is absurd") }
        var exports: [String: TypedExport] = [:]
        var names: [String] = []
        for index in 0..<plugin.export_count {
            let entry = list[index]
            guard let namePointer = entry.name else { throw .badDescriptor("module \(id): export #\(index + 1) has no name") }
            let name = String(cString: namePointer)
            let where_ = "module \(id): export \(name)"
            guard entry.struct_size >= UInt32(MemoryLayout<mh_export>.size), entry.abi_version >> 16 == MH_ABI_VERSION >> 16 else {
                throw .badDescriptor("\(where_): mh_export struct_size \(entry.struct_size) or abi_version is wrong")
            }
            guard isValidExportName(name) else { throw .badDescriptor("\(where_): the name must match [A-Za-z_][A-Za-z0-9_]*") }
            guard methods[name] == nil, exports[name] == nil else {
                throw .badDescriptor("\(where_): the name is already used by a method or another export")
            }
            guard let function = entry.fn else { throw .badDescriptor("\(where_): fn is NULL") }
            guard let signature = entry.signature.map({ String(cString: $0) }) else {
                throw .badDescriptor("\(where_): signature is NULL")
            }
            let parameterNames = entry.param_names.map { Self.strings($0) }
            do {
                exports[name] = try TypedExport(
                    name: name, function: unsafeBitCast(function, to: UnsafeRawPointer.self), signature: signature,
                    parameterNames: parameterNames, release: entry.release)
            } catch {
                throw .badDescriptor("\(where_): signature \"\(signature)\": \(error)")
            }
            names.append(name)
        }
        return (exports, names)
    }

    private static func isValidExportName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first | 0x20 >= UInt8(ascii: "a") && first | 0x20 <= UInt8(ascii: "z")) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
        }
    }

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

    private static func strings(_ list: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
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
