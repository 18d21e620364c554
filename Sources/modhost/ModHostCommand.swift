import ArgumentParser
import Foundation
import Logging
import ModHost
import ModHostSupport

@main
struct ModHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modhost",
        abstract: "A plugin host scripted over JSON-RPC 2.0 on stdin/stdout.",
        discussion: """
            modhost loads every plugin (*.so) in the plugin directory, then reads one JSON-RPC 2.0 \
            message per line on stdin and writes responses and event notifications, one per line, on \
            stdout. With --watch (the default for the default plugin directory) it also follows the \
            directory: new files are loaded, replaced ones hot-swapped, removed ones unloaded. Logs go \
            to stderr. End of input, host.shutdown, SIGTERM or SIGINT shut it down \
            gracefully (exit status 0). With --listen it serves the same protocol to several \
            clients on Unix sockets; `modhost call` is a one-shot client of such a host.

            Two example requests, one line each on stdin (a module method is <module>.<method>):
              {"jsonrpc":"2.0","id":1,"method":"host.status"}
              {"jsonrpc":"2.0","id":2,"method":"calc.subtract","params":[42,23]}

            Host methods (params, then what they answer):

            """ + HostMethodCatalog.helpText,
        version: ModHost.versionText,
        subcommands: [CallCommand.self])

    @Option(name: .customLong("plugins"), help: ArgumentHelp(
        "Directory whose *.so plugins are loaded at start.",
        discussion: "Default: the directory of the modhost executable, where `swift build` puts the plugins.",
        valueName: "dir"))
    var pluginDirectory: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Watch the plugin directory while serving (the drop-in directory).",
        discussion: """
            A new *.so is loaded, a replaced one hot-swapped (modules.swap), a removed one unloaded \
            unless running modules require it. Install files by rename (cp to a name not ending in .so \
            in the same directory, then mv it over the .so name); a file still being written is \
            waited for. \
            Default: on for the default plugin directory, off for one given with --plugins.
            """))
    var watch: Bool?

    @Option(name: .customLong("watch-settle-ms"), help: ArgumentHelp(
        "How long a changed plugin file must stay quiet and complete before it is acted on.", valueName: "ms"))
    var watchSettleMs = 200

    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "Directory for the store database and module data.",
        discussion: "Default: $XDG_STATE_HOME/modhost, or ~/.local/state/modhost.", valueName: "dir"))
    var stateDirectory: String?

    /// `--server-id`, shared with `modhost call` (the parent parses it wherever it is written).
    @OptionGroup var server: ServerIDOption
    var serverID: String { server.serverID }

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "JSON file of per-module sections handed to each module's init: {\"health\": {...}}; its \"host\" section names module files and modes ({\"host\": {\"modules\": {\"<id>\": {\"path\": ..., \"mode\": \"serve|shadow|canary\"}}}}). SIGHUP re-reads it.", valueName: "file"))
    var configFile: String?

    @Flag(name: .customLong("manual-clock"), help: "Time moves only by clock.advance / clock.set (for tests).")
    var manualClock = false

    @Option(name: .customLong("clock-start"), help: ArgumentHelp(
        "With --manual-clock: the starting time in ms since the Unix epoch (default: now).", valueName: "ms"))
    var clockStart: Int64?

    @Option(name: .customLong("default-module"), help: ArgumentHelp(
        "Module that serves method names without a dot (\"subtract\" goes to <id>.subtract).", valueName: "id"))
    var defaultModule: String?

    @Option(name: .customLong("max-line-bytes"), help: "Longest accepted input line; longer ones get -32600 and are skipped.")
    var maxLineBytes = 16 << 20

    @Option(name: .customLong("max-result-bytes"), help: ArgumentHelp(
        "Largest result a module may answer a call with; a bigger one fails that call with -32603.", valueName: "n"))
    var maxResultBytes = 64 << 20
    @Option(name: .customLong("max-plugin-bytes"), help: ArgumentHelp(
        "Largest plugin file loaded; a larger one is refused before it is read.", valueName: "n"))
    var maxPluginBytes = HostConfiguration.defaultMaxPluginBytes

    @Option(name: .customLong("call-timeout-ms"), help: "A pending call not completed in this time fails with -32004.")
    var callTimeoutMs = 300_000

    @Option(name: .customLong("drain-timeout-ms"), help: "How long calls may take to finish at unload and shutdown.")
    var drainTimeoutMs = 10_000

    @Flag(name: .customLong("no-metrics"), help: ArgumentHelp(
        "Keep no per-method call metrics (modules.metrics and host.metrics then say they are off)."))
    var noMetrics = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .customLong("listen"), help: ArgumentHelp(
        "Also serve clients on a Unix socket: unix:PATH, or unix for the default path; repeatable.",
        discussion: """
            The same JSON-lines JSON-RPC as stdio, per connection (ids, batches, subscriptions). \
            The default path is $XDG_RUNTIME_DIR/modhost/<server-id>.sock, or \
            /tmp/modhost-<uid>/<server-id>.sock without XDG_RUNTIME_DIR. The socket is made 0600 in a \
            directory of mode 0700 owned by you (created if missing); a stale socket is replaced.
            """,
        valueName: "unix[:path]"))
    var listen: [String] = []

    @Flag(name: .customLong("no-stdio"), help: "Do not serve stdin/stdout: a daemon for --listen clients that runs until SIGTERM.")
    var noStdio = false

    @Option(name: .customLong("max-clients"), help: ArgumentHelp(
        "Socket connections served at once; the next one gets an error line and is closed.", valueName: "n"))
    var maxClients = 64

    @Option(name: .customLong("client-grace-ms"), help: ArgumentHelp(
        "How long a socket client may leave over 4 MiB of its output unread before it is disconnected.", valueName: "ms"))
    var clientGraceMs = 10_000

    @Option(name: .customLong("disable"), help: ArgumentHelp(
        "Leave out a module (by id) or a plugin file (by path); repeatable.",
        discussion: """
            For starting after a crash, whose line on stderr names the module. A module id \
            (--disable health) is refused after its descriptor is read, before its init runs. A path \
            (containing / or ending in .so) is never opened, so a crash in the library's constructors \
            or mh_plugin_entry is avoided too. Applies at start-up, to the watched directory and to \
            modules.load and modules.swap.
            """,
        valueName: "id|file"))
    var disable: [String] = []

    func validate() throws {
        guard serverID.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil else {
            throw ValidationError("--server-id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        guard maxLineBytes >= 1024 else { throw ValidationError("--max-line-bytes must be at least 1024") }
        guard maxResultBytes >= 1024 else { throw ValidationError("--max-result-bytes must be at least 1024") }
        guard maxPluginBytes >= 64 else { throw ValidationError("--max-plugin-bytes must be at least 64 (an ELF header)") }
        guard callTimeoutMs > 0, drainTimeoutMs >= 0 else { throw ValidationError("timeouts must be positive") }
        guard (0...60_000).contains(watchSettleMs) else { throw ValidationError("--watch-settle-ms must be 0 to 60000") }
        if let clockStart {
            guard manualClock else { throw ValidationError("--clock-start needs --manual-clock") }
            guard HostTime.validMs.contains(clockStart) else {
                throw ValidationError("--clock-start must be within \(HostTime.rangeText) ms, got \(clockStart)")
            }
        }
        do {
            _ = try DisabledModules(disable)
        } catch {
            throw ValidationError(error.description)
        }
        _ = try listenPaths()
        guard maxClients >= 1 else { throw ValidationError("--max-clients must be at least 1") }
        guard clientGraceMs >= 0 else { throw ValidationError("--client-grace-ms must not be negative") }
        if noStdio && listen.isEmpty {
            throw ValidationError("--no-stdio needs --listen: without stdio and a socket, nobody could reach the host")
        }
        if stateDirectory?.isEmpty == true { throw ValidationError("--state-dir must not be empty: give a directory, or leave the option out") }
        if configFile?.isEmpty == true { throw ValidationError("--config must not be empty: give a JSON file, or leave the option out") }
        if let pluginDirectory, let problem = HostConfiguration.pluginDirectoryProblem(pluginDirectory) {
            // Exit 2, not ArgumentParser's 64: the issue's contract for a plugin directory that
            // is not there (nothing to serve), which scripts test for.
            FileHandle.standardError.write(Data("Error: --plugins \(pluginDirectory) \(problem)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// The socket paths of `--listen`, absolute, each once.
    func listenPaths() throws -> [String] {
        var seen: Set<String> = []
        return try listen.map { value in
            if value == "unix" { return SocketPath.defaultPath(serverID: serverID) }
            guard value.hasPrefix("unix:"), value.count > 5 else {
                throw ValidationError("--listen must be unix or unix:PATH (a Unix socket), got \(value)")
            }
            let path = String(value.dropFirst(5))
            return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }.filter { seen.insert($0).inserted }
    }

    func run() throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var configuration = HostConfiguration(
            pluginDirectory: pluginDirectory ?? Self.executableDirectory(),
            stateDirectory: stateDirectory ?? Self.defaultStateDirectory(),
            serverID: serverID)
        if let configFile {
            do {
                let file = try HostConfiguration.readConfig(fromFile: configFile)
                configuration.moduleConfigs = file.moduleConfigs
                configuration.hostModules = file.hostModules
                configuration.configFile = configFile
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if manualClock {
            configuration.manualClockStartMs = clockStart ?? Int64(Date().timeIntervalSince1970 * 1000)
        }
        configuration.defaultModule = defaultModule
        configuration.maxLineBytes = maxLineBytes
        configuration.maxResultBytes = maxResultBytes
        configuration.maxPluginBytes = maxPluginBytes
        configuration.callTimeout = .milliseconds(callTimeoutMs)
        configuration.drainTimeout = .milliseconds(drainTimeoutMs)
        configuration.watchPluginDirectory = watch ?? (pluginDirectory == nil)
        configuration.watchSettleTime = .milliseconds(watchSettleMs)
        configuration.logLevel = level
        configuration.metrics = !noMetrics
        configuration.disabled = (try? DisabledModules(disable)) ?? DisabledModules()  // checked in validate()
        configuration.listenPaths = try listenPaths()
        configuration.stdio = !noStdio
        configuration.maxClients = maxClients
        configuration.clientGraceMilliseconds = clientGraceMs
        throw ExitCode(ModHost.run(configuration))
    }

    static func executableDirectory() -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    static func defaultStateDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return "\(state)/modhost" }
        return "\(NSHomeDirectory())/.local/state/modhost"
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
