import Foundation
import ModHostJSON
import ModHostSupport
import Synchronization

/// The config file's `host.modules` section, applied: at start (after the plugin directory is
/// loaded), then on SIGHUP and `host.reloadConfig`, which re-read the same `--config` file.
///
/// An entry is applied as the `modules.swap` request it stands for (`SwapRequest`), except
/// that mode "serve" loads a module that is not loaded, swaps one loaded from another file,
/// promotes a shadow or canary of that very file, and leaves alone one already serving it; and
/// mode "canary" naming the file of the running canary steps it to the entry's percent. A reload
/// applies only the entries that are new or edited since they were last applied (one that
/// failed is tried again); an entry removed from the file leaves its module as it is. A file
/// that cannot be read or fails its checks changes nothing. The per-module sections read by a
/// reload are what later loads get (a running module keeps the config it was loaded with, across
/// swaps too).
///
/// Start runs on the main thread before anything else can change modules; reloads on the
/// control queue. Nothing here logs a per-module section (they may hold secrets).
final class ConfigModules: @unchecked Sendable {
    private unowned let runtime: HostRuntime
    private struct State {
        /// The file's entries as last read, in its order.
        var entries: [HostModuleEntry]
        var moduleConfigs: [String: [UInt8]]
        /// By id: the entry as last applied with success (or kept for a pin at start).
        var applied: [String: HostModuleEntry] = [:]
    }
    private let state: Mutex<State>

    init(runtime: HostRuntime) {
        self.runtime = runtime
        state = Mutex(State(entries: runtime.configuration.hostModules, moduleConfigs: runtime.configuration.moduleConfigs))
    }

    var entries: [HostModuleEntry] { state.withLock { $0.entries } }

    /// The per-module section for `id`, as last read.
    func moduleConfig(_ id: String) -> [UInt8]? { state.withLock { $0.moduleConfigs[id] } }

    /// The file a "serve" entry names for `id`, if there is one.
    func servePath(_ id: String) -> String? {
        state.withLock { $0.entries.first { $0.id == id && $0.mode == "serve" }?.path }
    }

    // MARK: Applying

    /// What applying one entry did.
    struct Applied: Encodable, Sendable {
        let id: String
        let mode: String
        /// `loaded`, `swapped`, `shadow`, `canary`, `stepped`, `promoted`, `unchanged` (it already
        /// served that file, with nothing beside it) or `pinned` (at start: its pinned generation was kept).
        let action: String
        /// The answer of the method it amounts to (`modules.load`, `modules.swap`, …).
        let result: JSONValue?
    }

    struct Failed: Encodable, Sendable {
        let id: String
        let mode: String
        let code: Int32
        let error: String
    }

    /// `host.reloadConfig`'s answer.
    struct ReloadReport: Encodable, Sendable {
        let file: String
        var applied: [Applied] = []
        var unchanged: [String] = []
        /// Entries no longer in the file: their modules were left as they are.
        var removed: [String] = []
        var failed: [Failed] = []
    }

    /// Applies every entry at start. `pinned`: modules loaded from their pinned copies, whose
    /// "serve" entry is then not applied (the pin was made for that very entry).
    func applyAtStart(pinned: Set<String>) {
        for entry in entries {
            if entry.mode == "serve" && pinned.contains(entry.id) {
                runtime.logger.notice("host.modules.\(entry.id): \(entry.id) serves its pinned generation (chosen for this entry since); not loading \(LogText.quote(entry.path, keep: .tail))")
                state.withLock { $0.applied[entry.id] = entry }
                continue
            }
            if entry.mode != "serve" && runtime.pins.isRejected(entry.id, path: entry.path) {
                runtime.logger.notice("host.modules.\(entry.id): not starting the \(entry.mode) of \(LogText.quote(entry.path, keep: .tail)) again: it was rolled back and the file is unchanged; edit the entry (host.reloadConfig) or replace the file to try it again")
                state.withLock { $0.applied[entry.id] = entry }
                continue
            }
            switch apply(entry) {
            case .success(let applied):
                state.withLock { $0.applied[entry.id] = entry }
                runtime.logger.info("host.modules.\(entry.id) (\(entry.mode)): \(applied.action)")
            case .failure(let error):
                runtime.logger.error("host.modules.\(entry.id) (\(entry.mode)) not applied: \(LogText.line(error.message))")
            }
        }
    }

    /// Re-reads the config file and applies what changed (on the control queue).
    ///
    /// - Throws: -32601 without `--config`; -32005 when the file cannot be read or fails its
    ///   checks (nothing changed, the host serves on): the message names the file and the key.
    func reload(reason: String) throws(RPCError) -> ReloadReport {
        guard let path = runtime.configuration.configFile else {
            runtime.logger.warning("\(reason): the host was started without --config; nothing to reload")
            throw RPCError(code: RPCError.refusedCode, message: "the host was started without --config: there is no config file to reload; restart it with --config FILE")
        }
        let file: ConfigFile
        do {
            file = try HostConfiguration.readConfig(fromFile: path)
        } catch {
            let message = "\(error); nothing was changed (the host serves on as before): fix the file and reload again"
            runtime.logger.error("\(reason): \(LogText.line(message))")
            var data = JSONObject()
            data.add("file", path)
            data.add("reason", "\(error)")
            throw RPCError(code: RPCError.refusedCode, message: message, data: data.result)
        }
        let previous = state.withLock { state in
            state.entries = file.hostModules
            state.moduleConfigs = file.moduleConfigs
            return state.applied
        }
        var report = ReloadReport(file: path)
        for entry in file.hostModules {
            if previous[entry.id] == entry {
                report.unchanged.append(entry.id)
                continue
            }
            if entry.mode != "serve" { runtime.pins.clearRejection(entry.id) }  // asked for again (a rollback now records anew)
            switch apply(entry) {
            case .success(let applied):
                state.withLock { $0.applied[entry.id] = entry }
                report.applied.append(applied)
            case .failure(let error):
                report.failed.append(Failed(id: entry.id, mode: entry.mode, code: error.code, error: error.message))
            }
        }
        let kept = Set(file.hostModules.map(\.id))
        for id in previous.keys.sorted() where !kept.contains(id) {
            state.withLock { _ = $0.applied.removeValue(forKey: id) }
            report.removed.append(id)
            runtime.logger.notice("\(reason): host.modules.\(id) was removed from the config; \(id) stays as it is")
        }
        let applied = report.applied.map { "\($0.id) (\($0.mode): \($0.action))" }
        let failed = report.failed.map { "\($0.id) (\($0.mode)): \(LogText.line($0.error))" }
        runtime.logger.notice(
            "\(reason): config reloaded: applied [\(applied.joined(separator: ", "))], unchanged [\(report.unchanged.joined(separator: ", "))], removed [\(report.removed.joined(separator: ", "))], failed [\(failed.joined(separator: "; "))]")
        return report
    }

    /// Applies one entry through the code path of the method it amounts to.
    private func apply(_ entry: HostModuleEntry) -> Result<Applied, RPCError> {
        Result { () throws(RPCError) -> Applied in
            let registry = runtime.registry!
            let target = PathTrust.lexicallyNormalized(entry.path)
            let same = { (file: String) in PathTrust.lexicallyNormalized(file) == target }
            // A canary of this very file already runs: an edited percent steps it (100 promotes,
            // 0 rolls back), as `modules.canary` would.
            if entry.mode == "canary", let slot = registry.slot(entry.id), let canary = slot.canary, same(canary.instance.image.file),
               let percent = entry.value["percent"].int {
                let result = try HostParams.encode(registry.stepCanary(entry.id, percent: Int(percent), drainTimeout: runtime.configuration.drainTimeout))
                return Applied(id: entry.id, mode: entry.mode, action: "stepped", result: try? JSONValue(parsing: result))
            }
            guard entry.mode == "serve" else {
                // The module serves that very file already (the shadow or canary was promoted).
                if registry.servesUnchanged(entry.id, file: entry.path) {
                    return Applied(id: entry.id, mode: entry.mode, action: "unchanged", result: nil)
                }
                let result = try SwapRequest.run(runtime, params: entry.swapParams)
                return Applied(id: entry.id, mode: entry.mode, action: entry.mode, result: try? JSONValue(parsing: result))
            }
            guard let slot = registry.slot(entry.id), let instance = slot.instance else {
                let instance: ModuleInstance
                do throws(LoadError) {
                    instance = try registry.load(entry.path, config: nil)
                } catch {
                    runtime.logger.error("load failed: \(LogText.quote(entry.path, keep: .tail)): \(LogText.line(error.description))")
                    throw RPCError.loadFailed(error.description, file: entry.path)
                }
                guard instance.id == entry.id else {
                    // Loaded, but under another id: say so; the module stays (unload it if unwanted).
                    throw RPCError.loadFailed(
                        "\(entry.path) holds module \(instance.id), not \(entry.id) (it was loaded; unload it and fix host.modules.\(entry.id))",
                        file: entry.path)
                }
                let result = try HostParams.encode(ModuleDescription(instance, slot: registry.slot(instance.id)))
                return Applied(id: entry.id, mode: entry.mode, action: "loaded", result: try? JSONValue(parsing: result))
            }
            if let canary = slot.canary, same(canary.instance.image.file) {
                let result = try HostParams.encode(registry.promoteCanary(slot, drainTimeout: runtime.configuration.drainTimeout))
                return Applied(id: entry.id, mode: entry.mode, action: "promoted", result: try? JSONValue(parsing: result))
            }
            if let shadow = slot.shadow, same(shadow.instance.image.file) {
                let result = try HostParams.encode(registry.promote(entry.id, drainTimeout: runtime.configuration.drainTimeout))
                return Applied(id: entry.id, mode: entry.mode, action: "promoted", result: try? JSONValue(parsing: result))
            }
            if same(instance.image.file) && slot.shadow == nil && slot.canary == nil {
                return Applied(id: entry.id, mode: entry.mode, action: "unchanged", result: nil)
            }
            let result = try SwapRequest.run(runtime, params: entry.swapParams)
            return Applied(id: entry.id, mode: entry.mode, action: "swapped", result: try? JSONValue(parsing: result))
        }
    }
}
