// Health: provider-key health for modhost — cooldowns from rate-limit hints and a backoff
// chain, daily-quota and auth blacklists, a circuit breaker per key, series trips. The rules
// live in HealthCore (pure, unit-tested); this file is the plugin around them: config, the
// store, the clock, events. Methods: Health+Methods.swift. Docs: ../README.md.
//
// Time: every operation reads the host clock once and first applies the deadlines that have
// passed (HealthEngine.advance), so no timer is needed: a passing deadline changes nothing a
// caller could see before the next call, and is not announced.
import Foundation
import HealthCore
import ModHostPluginSDK
import ModuleContracts
import ModHostSupport
import Synchronization

final class Health: StatefulPlugin, Sendable {
    static let id = "health"
    static let version = "1.0.0"
    static let description = "Provider-key health: cooldowns, blacklists, circuit breaking, series trips"
    static let subscriptions = [Topic.providerError, Topic.providerSuccess, Topic.tokenReauthRequired, Topic.tokenRefreshed]

    /// What the lock guards.
    struct Runtime {
        var engine: HealthEngine
        /// Whether the engine holds the store's records (or a swapped-in state) already.
        var loaded = false
        /// Records found stale at start and not deleted yet (`Health+Store`).
        var stale: [StoreWrite] = []
    }

    let host: PluginHost
    /// Calls and events reach an instance one at a time (the host serializes them); the lock
    /// makes the class `Sendable` and keeps that obvious.
    let runtime: Mutex<Runtime>

    init(host: PluginHost, config: RawJSON) throws {
        self.host = host
        let section = try config.decode(ConfigSection.self)
        if !section.unknownKeys.isEmpty {
            host.log(.warning, "ignoring unknown config keys: \(section.unknownKeys.prefix(10).map { LogText.quote($0) }.joined(separator: ", "))")
        }
        // TimeZone.current follows the process's TZ: "local midnight" is the host's.
        runtime = Mutex(Runtime(engine: HealthEngine(config: section.config, timeZone: .current)))
    }

    /// Reads the store, unless a hot swap handed the state over (or this instance already
    /// ran: a failed swap starts the old instance again).
    func start() throws {
        let needsLoad = runtime.withLock { runtime in
            defer { runtime.loaded = true }
            return !runtime.loaded
        }
        if needsLoad { try load() }
    }

    // MARK: - Hot swap

    func exportState() -> HealthState {
        runtime.withLock { $0.engine.exportState() }
    }

    func importState(_ state: HealthState, from version: String) {
        runtime.withLock { runtime in
            runtime.engine.importState(state)
            runtime.loaded = true
        }
        host.log(.info, "took over \(state.entries.count) keys and \(state.series.count) series from version \(version)")
    }

    // MARK: - Running an operation

    /// Runs `body` on the engine at the host clock's time, then carries out its effects:
    /// store writes (on disk when the call answers), events, log lines.
    ///
    /// - Throws: `PluginError.invalidParams` when `body` refuses its input.
    func perform<R: Sendable>(
        _ body: (inout HealthEngine, Int64, inout Effects) throws(HealthInputError) -> R
    ) throws(PluginError) -> R {
        let now = host.nowMs
        var effects = Effects()
        let outcome = runtime.withLock { runtime -> Result<R, HealthInputError> in
            do throws(HealthInputError) {
                return .success(try body(&runtime.engine, now, &effects))
            } catch {
                return .failure(error)
            }
        }
        finish(effects)
        switch outcome {
        case .success(let result): return result
        case .failure(let error): throw PluginError.invalidParams(error.message)
        }
    }

    // MARK: - Events

    func onEvent(topic: String, data: RawJSON) {
        do {
            switch topic {
            case Topic.providerError:
                let params = try data.decode(ProviderError.self)
                _ = try perform { engine, now, effects throws(HealthInputError) in
                    try engine.report(params.input, at: now, effects: &effects)
                }
            case Topic.providerSuccess:
                let params = try data.decode(ProviderSuccess.self)
                _ = try perform { engine, now, effects throws(HealthInputError) in
                    try engine.reportSuccess(params.providerKey, at: now, effects: &effects)
                }
            case Topic.tokenReauthRequired:
                // Every key the token serves is out until its refresh (all of them or, when one
                // is malformed, none: the event is then refused whole).
                let event = try data.decode(TokenEvent.self)
                try Self.check(event.providerKeys)
                _ = try perform { engine, now, effects throws(HealthInputError) in
                    for key in event.providerKeys { _ = try engine.reauthRequired(key, at: now, effects: &effects) }
                }
            case Topic.tokenRefreshed:
                let event = try data.decode(TokenEvent.self)
                try Self.check(event.providerKeys)
                _ = try perform { engine, now, effects throws(HealthInputError) in
                    for key in event.providerKeys { _ = try engine.tokenRefreshed(key, at: now, effects: &effects) }
                }
            default:
                break
            }
        } catch let error as PluginError {
            host.log(.warning, "ignoring \(topic) event: \(error.message)")
        } catch {
            host.log(.warning, "ignoring \(topic) event: \(error)")
        }
    }
}

extension Health {
    /// Refuses a token event whose keys are not all valid provider keys.
    static func check(_ keys: [String]) throws(PluginError) {
        for (index, key) in keys.enumerated() {
            do throws(HealthInputError) {
                try ReportInput.check(providerKey: key, field: "providerKeys[\(index)]")
            } catch {
                throw PluginError.invalidParams(error.message)
            }
        }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Health.pluginEntry() }
