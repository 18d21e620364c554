import Foundation
import ModHostJSON
import Logging

/// Everything the host needs to start; the `modhost` executable fills it from the command line.
public struct HostConfiguration: Sendable {
    /// Directory whose `*.so` files are loaded at start; nil loads none.
    public var pluginDirectory: String?
    /// Watch `pluginDirectory` while serving (the drop-in directory): a new `*.so` is loaded, a
    /// replaced one hot-swapped, a removed one unloaded. Off by default; the executable turns it
    /// on for its default plugin directory.
    public var watchPluginDirectory = false
    /// How long a changed plugin file must stay quiet (and complete) before the watcher acts.
    public var watchSettleTime: Duration = .milliseconds(200)
    /// Where the store database and module data directories live.
    public var stateDirectory: String
    /// Names the database (`<state>/<server-id>.sqlite`) and is handed to plugins.
    public var serverID: String
    /// Per-module config sections (raw JSON objects) handed to `init`, by module id.
    public var moduleConfigs: [String: [UInt8]] = [:]
    /// The `--config` file, re-read by SIGHUP and `host.reloadConfig`; nil without one.
    public var configFile: String?
    /// The config file's `host.modules`: which file each module serves from, and how.
    public var hostModules: [HostModuleEntry] = []
    /// Use a manual clock starting at this time (ms since the epoch); nil for the real clock.
    public var manualClockStartMs: Int64?
    /// Largest plugin file the loader accepts, in bytes (`--max-plugin-bytes`); checked from
    /// `fstat` before anything is read or copied.
    public var maxPluginBytes = defaultMaxPluginBytes
    /// 256 MiB: far above any real plugin, far below what would stall the host to read.
    public static let defaultMaxPluginBytes = 256 << 20
    /// Longest accepted control-channel line, in bytes.
    public var maxLineBytes = 16 << 20
    /// Largest result (or error data) a module may answer a call with, in bytes; a bigger one
    /// fails that call with -32603.
    public var maxResultBytes = 64 << 20
    /// How long a pending call may take before it is failed with -32004.
    public var callTimeout: Duration = .seconds(300)
    /// Per-method call metrics (`modules.metrics`, `host.metrics`); off with `--no-metrics`.
    public var metrics = true
    /// How long queued and pending calls may take to finish at unload and shutdown.
    public var drainTimeout: Duration = .seconds(10)
    /// Module that serves method names without a dot ("subtract" → "<module>.subtract").
    public var defaultModule: String?
    /// Modules and plugin files `--disable` leaves out (after a crash in one of them).
    public var disabled = DisabledModules()
    public var logLevel: Logger.Level = .info
    /// Unix sockets to serve the control channel on as well (`--listen unix:PATH`).
    public var listenPaths: [String] = []
    /// Serve a client on stdin/stdout (off with `--no-stdio`: a daemon that runs until SIGTERM).
    public var stdio = true
    /// Socket connections served at once (`--max-clients`); the next one is refused.
    public var maxClients = 64
    /// How long a socket client's output may stay over its bound before it is disconnected
    /// (`--client-grace-ms`), in ms.
    public var clientGraceMilliseconds = 10_000
    var clientGrace: Duration { .milliseconds(clientGraceMilliseconds) }

    public init(pluginDirectory: String?, stateDirectory: String, serverID: String = "default") {
        self.pluginDirectory = pluginDirectory
        self.stateDirectory = stateDirectory
        self.serverID = serverID
    }

    /// What is wrong with `path` as a plugin directory (`--plugins`), as the end of a sentence
    /// naming it ("does not exist: …"), or nil when it is a directory. Checked before the host
    /// starts, so a mistyped path is a usage error instead of a host that serves no modules.
    public static func pluginDirectoryProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))"
            return "\(reason): give the directory that holds the plugin files (*.so)"
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return "is not a directory: give the directory that holds the plugin files (*.so), not a file"
        }
        return nil
    }

    /// Reads a config file: a JSON object whose members are module ids, each an object handed to
    /// that module's `init` as written (made single-line), e.g.
    /// `{"health": {"cooldownCapMs": 10800000}}`. The reserved section `host` is not a module's:
    /// see `readConfig(fromFile:)`.
    ///
    /// - Throws: `ConfigurationError` naming the file and what is wrong: unreadable, not JSON
    ///   (with the byte where it stops being JSON), not an object, a section that is not an
    ///   object, a module id given twice.
    public static func moduleConfigs(fromFile path: String) throws -> [String: [UInt8]] {
        try readConfig(fromFile: path).moduleConfigs
    }

    /// Reads a config file: the per-module sections (`moduleConfigs(fromFile:)`) and the
    /// reserved `host` section, `{"host": {"modules": {"<id>": {"path": …, "mode": …}}}}`
    /// (`HostModuleEntry`), checked key by key.
    public static func readConfig(fromFile path: String) throws -> ConfigFile {
        let data = try readConfigFile(path)
        return try data.withUnsafeBufferPointer { bytes in
            if let failure = JSONScanner.failure(in: bytes) {
                let (line, column) = JSONScanner.lineAndColumn(of: JSONScanner.offset(of: failure, in: bytes), in: bytes)
                throw ConfigurationError("config file \(path) is not valid JSON: line \(line), column \(column): \(failure)")
            }
            var scanner = JSONScanner(bytes)
            scanner.skipWhitespace()
            guard scanner.next == UInt8(ascii: "{") else {
                throw ConfigurationError("config file \(path) must hold a JSON object of module sections")
            }
            var file = ConfigFile()
            var seenHost = false
            try scanner.visitObject { scanner, key in
                let id = scanner.string(key)
                guard scanner.next == UInt8(ascii: "{") else {
                    throw ConfigurationError("config file \(path): section \(JSONString.quotedText(id)) must be a JSON object")
                }
                guard file.moduleConfigs[id] == nil, !(id == "host" && seenHost) else {
                    throw ConfigurationError("config file \(path): section \(JSONString.quotedText(id)) is given twice; merge them into one")
                }
                let section = UnsafeBufferPointer(rebasing: bytes[try scanner.skipValueRange()])
                if id == "host" {
                    seenHost = true
                    file.hostModules = try hostSection(section, file: path)
                } else {
                    file.moduleConfigs[id] = JSONScanner.singleLine(section) ?? Array(section)
                }
            }
            return file
        }
    }
}

extension HostConfiguration {
    /// The bytes of a config file, or an error naming it and the system's reason (no such
    /// file, a directory, permission denied), never a raw Foundation error.
    static func readConfigFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigurationError("cannot read config file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ConfigurationError("cannot read config file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let what = info.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file"
            throw ConfigurationError("cannot read config file \(path): it is \(what); give a JSON file of module sections")
        }
        guard info.st_size <= maxConfigBytes else {
            throw ConfigurationError("config file \(path) is \(info.st_size) bytes, over the limit of \(maxConfigBytes) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var count = 0
        while count < bytes.count {
            let read = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { throw ConfigurationError("cannot read config file \(path): \(String(cString: strerror(errno)))") }
            if read == 0 { break }
            count += read
        }
        return Array(bytes.prefix(count))
    }

    /// The largest config file read: far above any real one (sections are small objects).
    static let maxConfigBytes = 16 << 20

    /// The config sections whose module id is not among `loaded`: a misspelt id, or a module
    /// that is not there, whose settings would otherwise be ignored without a word.
    public static func unusedSections(_ configs: [String: [UInt8]], loaded: [String]) -> [String] {
        configs.keys.filter { !loaded.contains($0) }.sorted()
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
