import Dispatch
import Foundation
import Logging
import Synchronization
import CModHost
import ModHostSupport

/// The host: `ModHost.run` loads the plugins, serves the control channel on stdio and the
/// `--listen` sockets (and, when configured, follows the plugin directory:
/// `PluginDirectoryWatcher`) until end of input, `host.shutdown`, SIGTERM or SIGINT, then shuts
/// down gracefully and returns the exit status.
public enum ModHost {
    /// `modhost --version`: the host's version and the ABI it speaks.
    public static var versionText: String { "modhost \(HostMethods.version) (ABI \(MH_ABI_MAJOR).\(MH_ABI_MINOR))" }

    /// Runs the host on `input` / `output` (stdin / stdout by default). Blocks until shutdown.
    ///
    /// - Important: `output` is taken over for the protocol: it is duplicated for the channel's
    ///   private use and then pointed at stderr, so stray writes (a plugin's `printf`) land in the
    ///   log instead of corrupting the channel.
    public static func run(_ configuration: HostConfiguration, input: Int32 = 0, output: Int32 = 1) -> Int32 {
        let logger = Logger(label: "modhost")
        // Before any plugin loads: a crash names its module on stderr (see CrashReport).
        let crashHandler = CrashReport.install(label: "modhost \(HostMethods.version)")
        if crashHandler != 0 {
            logger.warning("crash reports disabled: cannot install the signal handler: \(String(cString: strerror(crashHandler)))")
        }
        var protocolFD: Int32 = -1
        if configuration.stdio {
            protocolFD = dup(output)
            guard protocolFD >= 0 else {
                logger.critical("cannot duplicate the output descriptor: \(String(cString: strerror(errno)))")
                return 1
            }
            _ = fcntl(protocolFD, F_SETFD, FD_CLOEXEC)
        }
        dup2(2, output)
        signal(SIGPIPE, SIG_IGN)

        let shutdown = ShutdownRequest()
        let runtime: HostRuntime
        do {
            let database = try StateDirectory.prepare(configuration) { logger.notice("\($0)") }
            let store: SQLiteStore
            do {
                store = try SQLiteStore(path: database)
            } catch {
                throw ConfigurationError(
                    "cannot open the store \(database): \(SQLiteStore.reason(for: error)): move the file away (the host starts a new one) or give another --state-dir or --server-id")
            }
            runtime = try HostRuntime(configuration: configuration, store: store, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            return 1
        }
        let stdio = configuration.stdio
            ? ChannelClient(fd: protocolFD, connectedAtMs: runtime.clock.nowMs, logger: logger) { shutdown.request("the channel's reader went away") }
            : nil
        if let stdio { runtime.clients.add(stdio) }
        let methods = HostMethods(runtime: runtime) { shutdown.request("host.shutdown") }
        let channel = stdio.map { ControlChannel(runtime: runtime, methods: methods, client: $0) }
        // Bound before the plugins load, so a path in use fails the start at once; accepting
        // begins once they are loaded.
        var sockets: SocketServer?
        if !configuration.listenPaths.isEmpty {
            do {
                sockets = try SocketServer(paths: configuration.listenPaths, runtime: runtime, methods: methods, logger: logger)
            } catch {
                logger.critical("cannot start: \(error)")
                stdio?.output.close()
                runtime.store.close()
                runtime.registry.loader.removeImageDirectory()
                return 1
            }
        }
        // SIGHUP re-reads the config file (below, once start-up is done); until then it is ignored
        // rather than ending the host.
        signal(SIGHUP, SIG_IGN)
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let name = number == SIGTERM ? "SIGTERM" : "SIGINT"
                if !shutdown.request(name) {
                    // A second signal while shutting down: the user wants out now.
                    logger.warning("second \(name) during shutdown: exiting at once")
                    exit(128 + number)
                }
            }
            source.resume()
            return source
        }

        var watcher: PluginDirectoryWatcher?
        if let directory = configuration.pluginDirectory {
            if configuration.watchPluginDirectory {
                // Watch before loading, so a file that changes meanwhile is not missed.
                do {
                    watcher = try PluginDirectoryWatcher(directory: directory, settleTime: configuration.watchSettleTime, runtime: runtime)
                } catch {
                    logger.error("not watching the plugin directory: \(error)")
                }
            }
        }
        let files = configuration.pluginDirectory.map { PluginLoader.pluginFiles(in: $0) } ?? []
        if let directory = configuration.pluginDirectory, files.isEmpty {
            logger.warning("no plugin files (*.so) in \(LogText.quote(directory, keep: .tail)): serving host methods only; put plugins there or give another --plugins directory")
        }
        // Pinned generations stand in for the files offered for them, if those are unchanged.
        let pinned = runtime.pins.startPlan(directoryFiles: files, hostModules: configuration.hostModules)
        let outcome = runtime.registry.loadAll(files, configs: configuration.moduleConfigs, pinned: pinned)
        for failure in outcome.failures {
            logger.error("not loaded: \(LogText.quote(failure.file, keep: .tail)): \(LogText.line(failure.error.description))")
        }
        for (id, error) in outcome.pinFailures {
            logger.error("the pinned copy of \(id) could not be loaded (\(LogText.line(error.description))); dropped the pin, loading what is offered for \(id)")
            runtime.pins.remove(id)
        }
        for id in outcome.pinned.sorted() {
            guard let record = runtime.pins.record(id), let version = runtime.registry.slot(id)?.instance?.descriptor.version else { continue }
            logger.notice("pinned: \(id) \(version) serves from its pinned copy (chosen by a \(record.chosenBy)), not from \(LogText.quote(record.offer.path, keep: .tail)), which is unchanged since the pin was made")
        }
        runtime.configModules.applyAtStart(pinned: outcome.pinned)
        let ids = runtime.registry.entries.map(\.instance.id)
        for section in HostConfiguration.unusedSections(configuration.moduleConfigs, loaded: ids) {
            let loadedText = ids.isEmpty ? "none is loaded" : "loaded: \(ids.joined(separator: ", "))"
            logger.warning("config section \(LogText.quote(section)) is for a module that is not loaded (\(loadedText)): check the id, or load the module; a module loaded later still gets it")
        }
        let loaded = runtime.registry.entries.map { "\($0.instance.id) \($0.instance.descriptor.version)" }
        let listening = sockets.map { "; listening on " + $0.paths.map { "unix:\(LogText.quote($0, keep: .tail))" }.joined(separator: ", ") } ?? ""
        logger.info("ready: \(loaded.count) modules (\(loaded.joined(separator: ", "))), server id \(configuration.serverID)\(listening)")
        // From here on lifecycle changes run on the control queue only: so does a reload.
        let reloadSignal = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        reloadSignal.setEventHandler {
            runtime.control.async {
                CrashReport.prepareThread()  // plugin code (init, start, a swap) runs here
                _ = try? runtime.configModules.reload(reason: "SIGHUP")
            }
        }
        reloadSignal.resume()
        watcher?.start()
        sockets?.start()

        let sweeper = DispatchSource.makeTimerSource(queue: .global())
        sweeper.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
        sweeper.setEventHandler {
            // Calls past their deadline fail wherever they are: queued, inside handle, or pending.
            let now = DispatchTime.now().uptimeNanoseconds
            var expired = CallTable.shared.takeExpired(now: now)
            for entry in runtime.registry.entries {
                expired += entry.slot.mailbox.takeCalls(dueBy: now)
                entry.slot.mailbox.wakeIfDeferred(now: now)
            }
            for call in expired { call.finish(error: call.timedOut) }
            runtime.loads.takeExpired(now: now)
        }
        sweeper.resume()

        if let channel {
            let reader = Thread {
                CrashReport.prepareThread()
                channel.serve(fd: input)
                shutdown.request("end of input")
            }
            reader.name = "modhost-input"
            reader.start()
        }

        let reason = shutdown.wait()
        logger.info("shutting down: \(reason)")
        // Every client hears it first; what they send from now on is not read.
        let notice = shuttingDownLine(reason)
        for client in runtime.clients.all { client.output.writeLine(notice) }
        channel?.stopAccepting()
        sockets?.stopAccepting()
        watcher?.stop()
        reloadSignal.cancel()
        // One drain timeout for all of it: queued host methods, modules' calls, the last output.
        let deadline = ContinuousClock.now + configuration.drainTimeout
        // Waits until the control queue is free (queued host methods and lifecycle changes done:
        // a `modules.load` read before the end of input is answered, and its module stopped
        // below) and keeps it, so no change runs beside the shutdown; past the deadline (a
        // change stuck in a plugin, a manual clock move waiting for a module stuck in a call) it
        // shuts down anyway: closing the modules releases what waits for them.
        let controlHeld = methods.holdControl(until: deadline)
        // Nothing is loaded from now on and gates stop: a change queued behind a stuck one, or
        // a gate's check that comes late, cannot bring a module back while the store closes.
        runtime.registry.beginClosing()
        runtime.loads.abandon()
        runtime.registry.shutdown(until: deadline)
        controlHeld.signal()
        runtime.timers.shutdown()
        sweeper.cancel()
        signals.forEach { $0.cancel() }
        // A client still reading gets its last replies; one that stopped is given a second.
        let last = max(deadline, ContinuousClock.now + .seconds(1))
        sockets?.closeAll(until: last)
        stdio?.output.close(timeout: max(last - ContinuousClock.now, .zero))
        runtime.store.close()
        runtime.registry.loader.removeImageDirectory()
        logger.info("stopped")
        return 0
    }

    /// `{"jsonrpc":"2.0","method":"host.shutting_down","params":{"reason":…}}`: the notification
    /// every client gets when shutdown begins, before its last replies and the end of the
    /// connection.
    private static func shuttingDownLine(_ reason: String) -> [UInt8] {
        var params = JSONObject()
        params.add("reason", reason)
        return Array(#"{"jsonrpc":"2.0","method":"host.shutting_down","params":"#.utf8) + params.result + [UInt8(ascii: "}")]
    }
}

/// The first reason to shut down wins; `wait` returns it.
final class ShutdownRequest: Sendable {
    private let reason = Mutex<String?>(nil)
    private let semaphore = DispatchSemaphore(value: 0)

    /// Records the reason; returns false if a shutdown was already requested.
    @discardableResult
    func request(_ why: String) -> Bool {
        let first = reason.withLock { reason in
            guard reason == nil else { return false }
            reason = why
            return true
        }
        if first { semaphore.signal() }
        return first
    }

    func wait() -> String {
        semaphore.wait()
        return reason.withLock { $0 ?? "" }
    }
}
