import ModHostSupport
import ModHostJSON
import Synchronization

/// One published event. `data` is JSON followed by a NUL, so it can be handed to C as is.
final class Event: Sendable {
    let topic: String
    let data: [UInt8]
    let timestampMs: Int64

    init(topic: String, json: [UInt8], timestampMs: Int64) {
        self.topic = topic
        self.data = json + [0]
        self.timestampMs = timestampMs
    }

    var json: ArraySlice<UInt8> { data[0..<data.count - 1] }
}

/// Who receives an event.
enum Subscriber: Sendable {
    case module(ModuleContext)
    /// A control-channel client (stdio or a socket connection): events arrive as `event`
    /// notifications on its output, and only on its own.
    case client(ChannelClient)

    fileprivate func isSame(as other: Subscriber) -> Bool {
        switch (self, other) {
        case (.client(let a), .client(let b)): a === b
        case (.module(let a), .module(let b)): a === b
        default: false
        }
    }
}

/// Routes published events to subscribers whose pattern matches the topic.
/// Delivery to a module goes through its mailbox, so `on_event` is serialized with its calls.
final class EventBus: Sendable {
    private struct Subscription {
        let pattern: TopicPattern
        let subscriber: Subscriber
    }
    private let subscriptions = Mutex<[Subscription]>([])
    private let clock: any HostClock

    init(clock: any HostClock) {
        self.clock = clock
    }

    /// Adds a subscription; subscribing twice to the same pattern is one subscription.
    func subscribe(_ pattern: String, _ subscriber: Subscriber) {
        let pattern = TopicPattern(pattern)
        subscriptions.withLock { list in
            guard !list.contains(where: { $0.pattern == pattern && $0.subscriber.isSame(as: subscriber) }) else { return }
            list.append(Subscription(pattern: pattern, subscriber: subscriber))
        }
    }

    /// Removes a subscription; returns false when there was none.
    @discardableResult
    func unsubscribe(_ pattern: String, _ subscriber: Subscriber) -> Bool {
        let pattern = TopicPattern(pattern)
        return subscriptions.withLock { list in
            let before = list.count
            list.removeAll { $0.pattern == pattern && $0.subscriber.isSame(as: subscriber) }
            return list.count != before
        }
    }

    func unsubscribeAll(_ context: ModuleContext) {
        subscriptions.withLock { list in list.removeAll { $0.subscriber.isSame(as: .module(context)) } }
    }

    /// Drops every subscription of a client (it disconnected).
    func unsubscribeAll(_ client: ChannelClient) {
        subscriptions.withLock { list in list.removeAll { $0.subscriber.isSame(as: .client(client)) } }
    }

    /// The patterns a client subscribed to, in the order it did.
    func patterns(of client: ChannelClient) -> [String] {
        subscriptions.withLock { list in
            list.compactMap { if case .client(let subscriber) = $0.subscriber, subscriber === client { $0.pattern.text } else { nil } }
        }
    }

    /// Publishes `data` (valid single-line JSON) under `topic`. Each subscriber gets it once,
    /// however many of its patterns match. Returns how many subscribers it went to.
    @discardableResult
    func publish(topic: String, data: [UInt8]) -> Int {
        let event = Event(topic: topic, json: data, timestampMs: clock.nowMs)
        let targets: [Subscriber] = subscriptions.withLock { list in
            var targets: [Subscriber] = []
            for subscription in list where subscription.pattern.matches(topic) {
                if !targets.contains(where: { $0.isSame(as: subscription.subscriber) }) {
                    targets.append(subscription.subscriber)
                }
            }
            return targets
        }
        for target in targets {
            switch target {
            case .client(let client):
                // Dropped and counted, never waited for, when the client lags.
                client.writeEvent { out in Self.appendNotification(event, to: &out) }
            case .module(let context):
                context.slot.mailbox.post(.callback(context, .event(event)))
            }
        }
        return targets.count
    }

    /// Sends `data` (valid single-line JSON) under `topic` to `client` alone, subscribed or not
    /// (`notify_client`); dropped and counted like any event if the client is too far behind.
    func notify(_ client: ChannelClient, topic: String, data: [UInt8]) {
        let event = Event(topic: topic, json: data, timestampMs: clock.nowMs)
        client.writeEvent { out in Self.appendNotification(event, to: &out) }
    }

    /// The `event` notification line for `event`.
    private static func appendNotification(_ event: Event, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","method":"event","params":{"topic":"#.utf8)
        JSONString.append(event.topic, to: &out)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: event.json)
        out.append(contentsOf: #","ts":"#.utf8)
        out.append(contentsOf: String(event.timestampMs).utf8)
        out.append(contentsOf: "}}".utf8)
    }
}
