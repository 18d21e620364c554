import CModHost

/// The host-table functions ABI 1.2 appended (`modhost.h`, "since 1.2"): a call with its own
/// deadline, what an open call knows about its caller, and an event to one client.
extension HostAPI {
    static func installV2(in table: UnsafeMutablePointer<mh_host_api>) {
        table.pointee.call_v2 = { ctx, method, methodLength, params, paramsLength, deadlineMs, onReply, user in
            HostAPI.call(ctx, method, methodLength, params, paramsLength, deadlineMs: deadlineMs, onReply, user)
        }
        table.pointee.call_remaining_ms = { call in
            guard let call else { return Int64(MH_ERROR) }
            guard let open = CallTable.shared.open(UInt64(UInt(bitPattern: call))) else { return Int64(MH_EXPIRED) }
            return open.timeout.remainingMilliseconds()
        }
        table.pointee.call_client = { call in
            guard let call else { return Int64(MH_ERROR) }
            guard let open = CallTable.shared.open(UInt64(UInt(bitPattern: call))) else { return Int64(MH_EXPIRED) }
            return Int64(bitPattern: open.clientID)
        }
        table.pointee.notify_client = { ctx, clientID, topic, topicLength, data, dataLength in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let topic = HostAPI.string(topic, topicLength), !topic.isEmpty else { return MH_ERROR }
            let payload: [UInt8]
            if data == nil || dataLength == 0 {
                payload = Array("null".utf8)
            } else {
                guard let valid = HostAPI.json(data, dataLength) else { return MH_ERROR }
                payload = valid
            }
            guard let client = context.runtime.clients.client(clientID) else { return MH_NO_CLIENT }
            guard !context.isShadow else { return MH_OK }  // a shadow causes no outside effect
            context.runtime.events.notify(client, topic: topic, data: payload)
            return MH_OK
        }
    }
}
