/// Why a plugin file could not be loaded. Each case renders as a message that names the problem;
/// the loader prefixes the file.
public enum LoadError: Error, Sendable, CustomStringConvertible {
    case fileNotFound
    /// The file, its directory or an ancestor fails the ownership and permission rules.
    case untrusted(PathTrustError)
    /// The file is larger than `--max-plugin-bytes`.
    case tooLarge(size: Int64, limit: Int)
    /// Reading the file or writing its private copy failed; the system's reason.
    case unreadable(String)
    case notSharedObject(String)
    case dlopenFailed(String)
    case missingEntry
    case nullDescriptor
    case abiMismatch(plugin: String, host: String)
    /// A plugin struct whose `struct_size` does not cover a field the host needs.
    case structTooSmall(StructTooSmall)
    case badDescriptor(String)
    case duplicateID(String)
    case unmetRequirement(module: String, String)
    case dependencyCycle([String])
    case initFailed(module: String, message: String)
    case startFailed(module: String, message: String)
    /// Left out by `--disable`: `what` is "module <id>" or the resolved file, `option` the value.
    case disabled(what: String, option: String)
    /// Asked for while the host shuts down (a late reload, a gate's change).
    case shuttingDown

    public var description: String {
        switch self {
        case .fileNotFound: "no such file"
        case .untrusted(let error): "refusing to load: \(error)"
        case .tooLarge(let size, let limit):
            "refusing to load: the file is \(size) bytes, over the limit of \(limit) bytes (raise it with --max-plugin-bytes)"
        case .unreadable(let why): "cannot read the file: \(why)"
        case .notSharedObject(let why): "not a shared object: \(why)"
        case .dlopenFailed(let why): "dlopen failed: \(why)"
        case .missingEntry: "it does not export mh_plugin_entry: not a modhost plugin"
        case .nullDescriptor: "mh_plugin_entry returned NULL"
        case .abiMismatch(let plugin, let host): "built for modhost ABI \(plugin), this host speaks ABI \(host)"
        case .structTooSmall(let details): details.description
        case .badDescriptor(let why): "bad descriptor: \(why)"
        case .duplicateID(let id): "a module with id \"\(id)\" is already loaded"
        case .unmetRequirement(let module, let why): "module \(module) requires \(why)"
        case .dependencyCycle(let ids): "dependency cycle: \(ids.joined(separator: " -> "))"
        case .initFailed(let module, let message): "module \(module): init failed: \(message)"
        case .startFailed(let module, let message): "module \(module): start failed: \(message)"
        case .disabled(let what, let option): "\(what) is disabled by --disable \(option); restart without that option to load it"
        case .shuttingDown: "the host is shutting down: nothing more is loaded"
        }
    }
}

/// What a `struct_size` too small for the host's needs is refused with: the struct, its size,
/// the first field it does not cover, and both sides' ABI versions.
public struct StructTooSmall: Sendable, CustomStringConvertible {
    /// Where the struct is: `"descriptor"`, `"module x: exports_v2[1]"`.
    let what: String
    let structName: String
    let size: Int
    let field: String
    /// The `struct_size` that would cover `field`.
    let needed: Int
    /// Why the field must be there, e.g. "every ABI 1.x mh_plugin has the 128 bytes of ABI 1.0".
    let rule: String
    let pluginABI: String
    let hostABI: String

    public var description: String {
        "\(what) (\(structName)) has struct_size \(size), too small for its field \(field) (\(needed) bytes needed; \(rule)); "
            + "the plugin says ABI \(pluginABI), this host speaks ABI \(hostABI): rebuild the plugin against modhost.h"
    }
}
