import Foundation
import ModHostJSON

/// One entry of the config file's `host.modules` section: which file module `id` serves from
/// and how (`"host": {"modules": {"<id>": {"path": …, "mode": "serve|shadow|canary", …}}}`).
///
/// An entry is the params of a `modules.swap` request without `id`: `path`, `mode`, and what
/// the swap's modes take (`percent`, `stickyKey`, `gates`, `compare`, `keepSamples`) pass through
/// unchanged; `mode` `"serve"` (the default) is a plain load or swap.
public struct HostModuleEntry: Sendable, Equatable {
    public let id: String
    /// The file, absolute (a relative path is read from the config file's directory); compare
    /// with `PathTrust.lexicallyNormalized`.
    public let path: String
    public let mode: String
    /// The entry as written, with `path` made absolute: what a reload compares to tell an edit.
    public let value: JSONValue

    /// Keys an entry may hold.
    static let keys: Set<String> = ["path", "mode", "percent", "stickyKey", "gates", "compare", "keepSamples"]
    static let modes = ["serve", "shadow", "canary"]

    /// The `modules.swap` params this entry stands for: the entry with `id`, and without
    /// `mode` for `"serve"` (a plain swap).
    var swapParams: [UInt8] {
        var members = value.object ?? [:]
        members["id"] = .string(id)
        if mode == "serve" { members["mode"] = nil }
        return JSONValue.object(members).jsonBytes
    }

    public static func == (lhs: HostModuleEntry, rhs: HostModuleEntry) -> Bool {
        lhs.id == rhs.id && lhs.value == rhs.value
    }
}

/// What a config file holds: the per-module sections and the reserved `host` section.
public struct ConfigFile: Sendable {
    public var moduleConfigs: [String: [UInt8]] = [:]
    /// `host.modules`, in the file's order.
    public var hostModules: [HostModuleEntry] = []
}

extension HostConfiguration {
    /// Reads and checks the reserved `host` section (`{"modules": {...}}`) of config file `file`.
    ///
    /// - Throws: `ConfigurationError` naming the file and the key: an unknown key, a value of
    ///   the wrong type, an unknown mode, a path that is not a file.
    static func hostSection(_ section: UnsafeBufferPointer<UInt8>, file: String) throws -> [HostModuleEntry] {
        let where_ = "config file \(file)"
        let value: JSONValue
        do {
            value = try JSONValue(parsing: section)
        } catch {
            throw ConfigurationError("\(where_): section \"host\" is not valid JSON: \(error)")
        }
        guard let host = value.object else { throw ConfigurationError("\(where_): section \"host\" must be a JSON object") }
        for key in host.keys.sorted() where key != "modules" {
            throw ConfigurationError("\(where_): unknown key \"host.\(key)\"; the host section holds only \"modules\"")
        }
        guard let modulesValue = host["modules"] else { return [] }
        guard let modules = modulesValue.object else {
            throw ConfigurationError("\(where_): \"host.modules\" must be an object of module ids, got \(modulesValue.kindDescription)")
        }
        // The ids in the file's order (the JSON value keeps none).
        var order: [String] = []
        var scanner = JSONScanner(section)
        try scanner.visitObject { scanner, key in
            guard scanner.string(key) == "modules" else { return try scanner.skipValue() }
            try scanner.visitObject { scanner, id in
                let name = scanner.string(id)
                guard !order.contains(name) else {
                    throw ConfigurationError("\(where_): \"host.modules.\(name)\" is given twice; merge them into one")
                }
                order.append(name)
                try scanner.skipValue()
            }
        }
        let base = PathTrust.parent(of: PathTrust.lexicallyNormalized(file))
        return try order.map { id in try entry(id, modules[id] ?? .null, base: base, where: where_) }
    }

    private static func entry(_ id: String, _ value: JSONValue, base: String, where where_: String) throws -> HostModuleEntry {
        let name = "host.modules.\(id)"
        guard PluginDescriptor.isValidID(id) else {
            throw ConfigurationError("\(where_): \"host.modules\" key \(JSONString.quotedText(id)) is not a module id: it must match [a-z][a-z0-9_-]{0,63}")
        }
        guard var members = value.object else {
            throw ConfigurationError("\(where_): \"\(name)\" must be an object ({\"path\": …, \"mode\": …}), got \(value.kindDescription)")
        }
        for key in members.keys.sorted() where !HostModuleEntry.keys.contains(key) {
            throw ConfigurationError(
                "\(where_): unknown key \"\(name).\(key)\"; an entry takes \(HostModuleEntry.keys.sorted().joined(separator: ", "))")
        }
        guard let given = members["path"] else { throw ConfigurationError("\(where_): \"\(name)\" needs \"path\", the plugin file") }
        guard let written = given.string, !written.isEmpty else {
            throw ConfigurationError("\(where_): \"\(name).path\" must be a non-empty string, got \(given.kindDescription)")
        }
        // As written when absolute (listings show it so); from the config file's directory if not.
        let path = written.hasPrefix("/") ? written : "\(base)/\(written)"
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigurationError("\(where_): \"\(name).path\": \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ConfigurationError("\(where_): \"\(name).path\": \(path) is not a regular file; give the plugin file (*.so)")
        }
        members["path"] = .string(path)
        let mode: String
        switch members["mode"] {
        case nil: mode = "serve"
        case .string(let text)? where HostModuleEntry.modes.contains(text): mode = text
        case let other?:
            throw ConfigurationError(
                "\(where_): \"\(name).mode\" must be \"serve\", \"shadow\" or \"canary\", got \(other.string.map { JSONString.quotedText($0) } ?? other.kindDescription)")
        }
        // 0 and 100 end a running canary (an edit rolls it back or promotes it); a start takes 1 to 99.
        if let percent = members["percent"], percent.int.map({ !(0...100).contains($0) }) ?? true {
            throw ConfigurationError("\(where_): \"\(name).percent\" must be a whole number from 0 to 100, got \(percent.text)")
        }
        if let key = members["stickyKey"], key.string == nil {
            throw ConfigurationError("\(where_): \"\(name).stickyKey\" must be a string (a JSON pointer such as \"/sessionId\"), got \(key.kindDescription)")
        }
        for key in ["gates", "compare"] {
            if let member = members[key], member.object == nil {
                throw ConfigurationError("\(where_): \"\(name).\(key)\" must be an object, got \(member.kindDescription)")
            }
        }
        if let keep = members["keepSamples"], keep.int == nil {
            throw ConfigurationError("\(where_): \"\(name).keepSamples\" must be an integer, got \(keep.kindDescription)")
        }
        return HostModuleEntry(id: id, path: path, mode: mode, value: .object(members))
    }
}
