import ModHostPluginSDK
import ModHostSupport
import ModuleSupport

extension EngineHost {
    /// Carries out `effects` in their order, under the engine's lock.
    ///
    /// A store write the host refuses is logged and the rest go on (the host's own log says
    /// why); so is an event it refuses. While records found stale at start wait to be deleted,
    /// a record written again is taken off that list. During a restore (`deleteBudget` set),
    /// deletes past the budget join that list instead of running now.
    ///
    /// - Returns: what is left of `deleteBudget`.
    @discardableResult
    func apply(_ effects: Engine.Effects, to state: inout EngineState<Engine>, deleteBudget: Int? = nil) -> Int? {
        let store = host.store
        var deletesLeft = deleteBudget
        effects.forEachEffect { effect in
            switch effect {
            case .put(let key, let value):
                if !state.stale.isEmpty { state.stale.rewritten(key) }
                do {
                    try store.put(key, value)
                } catch {
                    host.log(.error, "could not write store record \(LogText.quote(key)): the host's store failed (its log says why)")
                }
            case .delete(let key):
                if let left = deletesLeft {
                    guard left > 0 else {
                        state.stale.add(key)
                        return
                    }
                    deletesLeft = left - 1
                }
                do {
                    try store.delete(key)
                } catch {
                    host.log(.error, "could not delete store record \(LogText.quote(key)): the host's store failed (its log says why)")
                }
            case .publish(let topic, let data):
                do {
                    try host.publish(topic, json: RawJSON(data))
                } catch {
                    host.log(.error, "could not publish \(LogText.quote(topic)): \(error)")
                }
            case .notify(let client, let topic, let data):
                // A shadow causes no outside effect (MODULES.md): no assignment reaches an agent
                // from it. The host drops a shadow's notify_client too; this says it here as well.
                guard !host.isShadow else { return }
                do {
                    if try !host.notify(client: client, topic, json: RawJSON(data)) {
                        host.log(.debug, "client \(client) is gone: \(LogText.quote(topic)) not sent")
                    }
                } catch {
                    host.log(.error, "could not notify client \(client) of \(LogText.quote(topic)): \(error)")
                }
            case .log(let level, let text):
                host.log(LogLevel(level), text)
            case .reply(let id, let json):
                guard let reply = state.parked.removeValue(forKey: id) else { return unknown(id) }
                reply.succeed(RawJSON(json))
            case .fail(let id, let failure):
                guard let reply = state.parked.removeValue(forKey: id) else { return unknown(id) }
                reply.fail(failure.pluginError)
            }
        }
        return deletesLeft
    }

    /// An answer for a call no longer held: failed at `stop`, or answered twice by the rules.
    private func unknown(_ id: PendingCallID) {
        host.log(.debug, "no held call \(id.rawValue) to answer (already answered, or failed when the module stopped)")
    }
}

extension LogLevel {
    init(_ level: ModuleLogLevel) {
        self = LogLevel(rawValue: level.rawValue) ?? .warning
    }
}
