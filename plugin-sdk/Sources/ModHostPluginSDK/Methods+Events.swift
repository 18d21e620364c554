import ModHostSupport
/// Event handlers, registered beside the methods: each topic (or pattern, `*` matching any run
/// of characters) handled here is also a subscription of the module's descriptor, so there is no
/// separate `subscriptions` list to keep in step (`Plugin.subscriptions` still adds topics of
/// its own, delivered to `onEvent`).
///
///     methods.on(Topic.providerError) { (health, event: ProviderError) in
///         try health.engine.perform { try $0.report(event, at: $1, effects: &$2) }
///     }
///
/// The event's data decodes into the handler's type as params do (same decoder, `null` as `{}`
/// for a type whose fields are all optional). An event whose data does not decode, or whose
/// handler throws, is dropped with a warning in the host's log: `ignoring provider.error event:
/// invalid event data: missing field "providerKey"` (escaped, and cut at 300 characters). An
/// event has no caller to answer. A topic no handler takes goes to `Plugin.onEvent`: the
/// handler for its exact topic first, else the first pattern registered that matches it.
/// Handlers run as `onEvent` does: one at a time with the instance's other entries, unless the
/// plugin `isConcurrent`.
extension Methods {
    /// Handles events of `topic` (or matching the pattern) whose data decodes as `Event`.
    public mutating func on<Event: Decodable & SendableMetatype>(
        _ topic: String, _ body: @escaping @Sendable (P, Event) throws -> Void
    ) {
        insert(topic: topic, EventHandler { plugin, data, core in
            try body(plugin, ParamsShape(names: []).decode(Event.self, from: data, using: core.decoder, subject: "event data"))
        })
    }

    /// Handles events of `topic` (or matching the pattern) with their data as it came.
    public mutating func on(_ topic: String, _ body: @escaping @Sendable (P, RawJSON) throws -> Void) {
        insert(topic: topic, EventHandler { plugin, data, _ in
            try body(plugin, RawJSON(Data(data)))
        })
    }

    /// The handler for `topic`: the exact one, else the first matching pattern.
    func eventHandler(for topic: String) -> EventHandler<P>? {
        if let handler = events[topic] { return handler }
        return patterns.first { TopicPattern.matches($0.pattern, topic) }?.handler
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One registered event handler, type-erased: decodes the data and runs the author's closure.
struct EventHandler<P: Plugin>: Sendable {
    let invoke: @Sendable (P, _ data: UnsafeRawBufferPointer, HostCore) throws -> Void
}

