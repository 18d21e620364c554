import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PluginHost {
    /// Sends an event notification to one control-channel client only, whether or not it
    /// subscribed (`notify_client`, ABI 1.2): node's task assignments to the agent that
    /// registered. The client gets `{"method":"event","params":{"topic":…,"data":…,"ts":…}}`.
    ///
    ///     let agent = CallInfo.current?.clientID     // in the handler of the agent's call
    ///     …
    ///     try host.notify(client: agent, "node.task_assign", assignment)
    ///
    /// - Parameter client: a client id from `CallInfo.clientID` (stdio is 1).
    /// - Returns: `true` when the notification was sent (or dropped because the client is too
    ///   far behind reading, as any event is), `false` when no client has that id: it
    ///   disconnected (or the id is 0, a module's).
    /// - Throws: `PluginError` if `data` cannot be encoded, the topic is empty, or the host is
    ///   older than ABI 1.2.
    @discardableResult
    public func notify(client: UInt64, _ topic: String, _ data: some Encodable) throws -> Bool {
        let json: Data
        do {
            json = try core.encoder.encode(data)
        } catch {
            throw PluginError.internalError("notify \(topic): cannot encode data: \(error)")
        }
        return try notify(client: client, topic, json: RawJSON(json))
    }

    /// Sends an event whose data is `json` (`nil`: null) to one client; see `notify(client:_:_:)`.
    @discardableResult
    public func notify(client: UInt64, _ topic: String, json: RawJSON? = nil) throws -> Bool {
        let table = core.table
        let status = try core.withOpenTable("notify \(topic)") { api, context in
            guard let notify = api.pointee.notify_client else { throw table.unsupported("notify(client:)", since: 2) }
            return topic.withCBytes { topic, topicLength in
                guard let json else { return notify(context, client, topic, topicLength, nil, 0) }
                return json.data.withCBytes { notify(context, client, topic, topicLength, $0, $1) }
            }
        }
        switch status {
        case MH_OK: return true
        case MH_NO_CLIENT: return false
        default: throw PluginError.internalError("notify \(topic): refused by the host (an empty topic or invalid JSON)")
        }
    }
}
