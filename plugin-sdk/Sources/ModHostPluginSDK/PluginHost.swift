import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The host's services for one module instance: logging, events, calls to other modules,
/// the persistent store, the clock and timers.
///
/// Your plugin's initializer receives it; keep a copy. It is `Sendable` and every method may
/// be called from any thread, at any time until the instance is destroyed. After that, calls
/// do nothing: logging is dropped and throwing methods throw `PluginError`.
///
/// (Named `PluginHost`, not `Host`, because Foundation has a `Host` class.)
///
///     host.log(.info, "starting")
///     try host.publish("health.changed", Status(up: true))
///     try host.store.put("count", encoding: 3)
public struct PluginHost: Sendable {
    let core: HostCore

    init(core: HostCore) {
        self.core = core
    }

    /// The module's id (the descriptor's `id`).
    public var moduleID: String { core.moduleID }
    /// The id of the server this host runs as.
    public var serverID: String { core.serverID }
    /// An existing directory for the module's bulk files.
    public var dataDirectory: String { core.dataDirectory }
    /// The module's persistent store.
    public var store: Store { Store(core: core) }
    /// Whether this instance is a shadow (`modules.swap` with mode `"shadow"`): its calls are
    /// mirrored ones whose results are only compared, so it must cause no outside effect (no
    /// HTTP, no files, no dispatch). The host already keeps its store writes in an overlay and
    /// drops its events and calls. Always `false` on a host older than ABI 1.2.
    public var isShadow: Bool { core.isShadow }
    /// The ABI version of the host running the instance, `"1.2"`. Services a minor added
    /// throw on an older host, naming both versions.
    public var hostABIVersion: String { core.table.versionText }

    // MARK: - Logging

    /// Writes `message` to the host's log (stderr), labelled with the module id.
    public func log(_ level: LogLevel, _ message: String) {
        core.withTable(closed: ()) { api, context in
            message.withCBytes { api.pointee.log?(context, level.rawValue, $0, $1) }
        }
    }

    // MARK: - Events

    /// Publishes an event with `data` encoded as JSON to every subscriber.
    /// - Throws: `PluginError` if `data` cannot be encoded or the host refuses the event
    ///   (an empty topic).
    public func publish(_ topic: String, _ data: some Encodable) throws {
        let json: Data
        do {
            json = try core.encoder.encode(data)
        } catch {
            throw PluginError.internalError("publish \(topic): cannot encode data: \(error)")
        }
        try publish(topic, json: RawJSON(json))
    }

    /// Publishes an event whose data is `json` (`nil`: null) to every subscriber.
    public func publish(_ topic: String, json: RawJSON? = nil) throws {
        let status = try core.withOpenTable("publish \(topic)") { api, context in
            topic.withCBytes { topic, topicLength in
                guard let json else { return api.pointee.publish?(context, topic, topicLength, nil, 0) ?? MH_ERROR }
                return json.data.withCBytes { api.pointee.publish?(context, topic, topicLength, $0, $1) ?? MH_ERROR }
            }
        }
        guard status == MH_OK else { throw PluginError.internalError("publish \(topic): refused by the host") }
    }

    /// Subscribes this instance to events matching `pattern` ('*' matches any run of
    /// characters); they arrive through `Plugin.onEvent(topic:data:)`.
    public func subscribe(_ pattern: String) throws {
        let status = try core.withOpenTable("subscribe \(pattern)") { api, context in
            pattern.withCBytes { api.pointee.subscribe?(context, $0, $1) ?? MH_ERROR }
        }
        guard status == MH_OK else { throw PluginError.internalError("subscribe \(pattern): refused by the host") }
    }

    /// Removes a subscription made with `subscribe`.
    public func unsubscribe(_ pattern: String) throws {
        let status = try core.withOpenTable("unsubscribe \(pattern)") { api, context in
            pattern.withCBytes { api.pointee.unsubscribe?(context, $0, $1) ?? MH_ERROR }
        }
        guard status == MH_OK else { throw PluginError.internalError("unsubscribe \(pattern): refused by the host") }
    }

    // MARK: - Clock

    /// The host clock in milliseconds since the Unix epoch (0 once the instance is destroyed).
    ///
    /// Read time only from here: under `--manual-clock` it moves only when a test says so.
    public var nowMs: Int64 {
        core.withTable(closed: 0) { api, context in api.pointee.now_ms?(context) ?? 0 }
    }

    /// The host clock as a `Date`.
    public var now: Date {
        Date(timeIntervalSince1970: Double(nowMs) / 1000)
    }
}
