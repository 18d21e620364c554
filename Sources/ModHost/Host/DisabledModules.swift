import Foundation

/// What `--disable ID|FILE` leaves out, so a host that crashed in a module can start without it.
///
/// A value that is a module id (`[a-z][a-z0-9_-]{0,63}`) disables that module: its file is opened
/// and its descriptor read, then it is refused before its `init` runs. Any other value containing
/// a `/` or ending in `.so` is a plugin file: a file whose resolved path (symbolic links, `.` and
/// `..` resolved, relative to the working directory) is the same is never opened, so a crash in
/// its library constructors or in `mh_plugin_entry` is avoided too.
public struct DisabledModules: Sendable, Equatable {
    /// Disabled module ids.
    public private(set) var ids: Set<String> = []
    /// Disabled files, resolved.
    public private(set) var files: Set<String> = []

    public init() {}

    /// Parses the `--disable` values.
    /// - Throws: `ConfigurationError` naming a value that is neither a module id nor a file path.
    public init(_ values: [String]) throws(ConfigurationError) {
        for value in values {
            if PluginDescriptor.isValidID(value) {
                ids.insert(value)
            } else if value.contains("/") || value.hasSuffix(".so") {
                files.insert(Self.resolve(value))
            } else {
                throw ConfigurationError(
                    "--disable \(value): neither a module id ([a-z][a-z0-9_-]{0,63}) nor a plugin file "
                        + "(a path containing \"/\" or ending in .so); pass --disable ID or --disable FILE")
            }
        }
    }

    public var isEmpty: Bool { ids.isEmpty && files.isEmpty }

    /// Every disabled id, then every disabled file, sorted (for `host.status`).
    public var listed: [String] { ids.sorted() + files.sorted() }

    /// Whether the plugin file at `path` must not be opened.
    func disables(file path: String) -> Bool {
        !files.isEmpty && files.contains(Self.resolve(path))
    }

    /// Whether module `id` must not be started.
    func disables(module id: String) -> Bool {
        ids.contains(id)
    }

    /// `path` made absolute with symbolic links, `.` and `..` resolved (`realpath`). For a file
    /// that does not exist (yet: one that may be dropped into a watched directory later) its
    /// directory is resolved instead, or, failing that too, the path is only normalized.
    public static func resolve(_ path: String) -> String {
        if let resolved = PathTrust.realPath(path) { return resolved }
        let normalized = PathTrust.lexicallyNormalized(path)
        let directory = (normalized as NSString).deletingLastPathComponent
        guard let resolvedDirectory = PathTrust.realPath(directory) else { return normalized }
        return (resolvedDirectory as NSString).appendingPathComponent((normalized as NSString).lastPathComponent)
    }
}
