import Foundation

/// A host serving product modules built by SwiftPM, as their end-to-end tests need it: a private
/// plugin directory holding copies of the modules' libraries, a manual clock, a `--config` file
/// with their sections, a fixed time zone, and kill -9 and restart on the same state.
///
///     let harness = try ModuleHarness(modules: ["libHealth.so"], config: ["health": ["cooldownCapMs": 60000]])
///     try harness.host.call("health.report", ["providerKey": "openai.k1", "status": 429])
///     try harness.at(ModuleHarness.defaultStart + 30_000)    // clock.set
///     let restarted = try harness.killAndRestart(clockStart: ModuleHarness.defaultStart + 60_000)
///
/// Time moves only when the test moves it; nothing sleeps.
public struct ModuleHarness: Sendable {
    /// 2026-01-01T00:00:00Z, a Thursday.
    public static let defaultStart: Int64 = 1_767_225_600_000

    public let host: HostProcess
    /// The plugin directory (`--plugins`).
    public let plugins: String
    public let configFile: String?
    public let timeZone: String
    public let extraArguments: [String]

    /// - Parameters:
    ///   - modules: library file names in the build directory (`libHealth.so`), copied into a
    ///     fresh plugin directory; or pass `plugins` to use a directory as it is.
    ///   - config: per-module sections for the host's `--config` file; empty: no file.
    ///   - state: the state directory; nil makes a fresh one.
    ///   - clockStart: the manual clock's start (ms since the epoch); nil runs the real clock.
    ///   - timeZone: the host's `TZ`.
    public init(
        modules: [String] = [], plugins: String? = nil, config: [String: JSON] = [:], state: String? = nil,
        clockStart: Int64? = defaultStart, timeZone: String = "UTC", extraArguments: [String] = []
    ) throws {
        let directory = try plugins ?? TemporaryDirectory.make(prefix: "modhost-plugins")
        for module in modules { try PluginBuilder.copyBuilt(module, into: directory) }
        var configFile: String?
        if !config.isEmpty {
            let path = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
            try Data(JSON.object(config).text.utf8).write(to: URL(fileURLWithPath: path))
            configFile = path
        }
        try self.init(directory: directory, configFile: configFile, state: state, clockStart: clockStart,
                      timeZone: timeZone, extraArguments: extraArguments)
    }

    private init(directory: String, configFile: String?, state: String?, clockStart: Int64?, timeZone: String,
                 extraArguments: [String]) throws {
        plugins = directory
        self.configFile = configFile
        self.timeZone = timeZone
        self.extraArguments = extraArguments
        var arguments = clockStart.map { ["--manual-clock", "--clock-start", String($0)] } ?? []
        if let configFile { arguments += ["--config", configFile] }
        host = try HostProcess(plugins: directory, state: state, extraArguments: arguments + extraArguments,
                               environment: ["TZ": timeZone])
    }

    /// Kills the host with SIGKILL (no shutdown, no flush) and starts a new one on the same state
    /// directory, plugins and config, its clock starting at `clockStart` (nil: the real clock).
    /// - Throws: when the host did not die of SIGKILL, or the new one does not start.
    public func killAndRestart(clockStart: Int64?) throws -> ModuleHarness {
        host.signal(SIGKILL)
        let status = try host.waitForExit()
        guard status == SIGKILL else { throw HostProcessError("the host exited with \(status), not by SIGKILL", stderr: host.stderrText) }
        return try restarted(clockStart: clockStart)
    }

    /// Shuts the host down gracefully (end of input) and starts a new one on the same state.
    public func restart(clockStart: Int64?) throws -> ModuleHarness {
        let status = try host.shutdown()
        guard status == 0 else { throw HostProcessError("the host exited with \(status) at shutdown", stderr: host.stderrText) }
        return try restarted(clockStart: clockStart)
    }

    private func restarted(clockStart: Int64?) throws -> ModuleHarness {
        try ModuleHarness(directory: plugins, configFile: configFile, state: host.stateDirectory, clockStart: clockStart,
                          timeZone: timeZone, extraArguments: extraArguments)
    }

    // MARK: The clock

    /// Sets the manual clock to `ms` (`clock.set`: a jump); returns the new time.
    @discardableResult
    public func at(_ ms: Int64) throws -> Int64 {
        try host.call("clock.set", ["ms": .int(ms)])["nowMs"].int ?? -1
    }

    /// Moves the manual clock forward by `ms` (`clock.advance`: time passing); returns the new time.
    @discardableResult
    public func advance(by ms: Int64) throws -> Int64 {
        try host.advanceClock(by: ms)
    }
}
