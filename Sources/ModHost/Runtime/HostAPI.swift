import CModHost
import Foundation
import Logging
import ModHostSupport
import ModHostJSON

/// The `mh_host_api` table every plugin receives in `init`: the host's services as C functions.
///
/// Each function may be called from any thread (the header's contract). They find the runtime
/// through the `mh_context *` (a `ModuleContext`) or, for calls, through the call table.
enum HostAPI {
    nonisolated(unsafe) static let table: UnsafeMutablePointer<mh_host_api> = {
        let table = UnsafeMutablePointer<mh_host_api>.allocate(capacity: 1)
        table.initialize(to: mh_host_api())
        table.pointee.abi_version = MH_ABI_VERSION
        table.pointee.struct_size = UInt32(MemoryLayout<mh_host_api>.size)
        table.pointee.log = { ctx, level, message, length in
            guard let context = ModuleContext.from(ctx) else { return }
            let text = HostAPI.string(message, length) ?? ""
            let level = Logger.Level.allCases[Int(min(max(level, 0), 6))]
            context.logger.log(level: level, "\(text)")
        }
        table.pointee.respond = { call, json, length in
            guard let call = CallTable.shared.take(UInt64(UInt(bitPattern: call))) else { return MH_EXPIRED }
            guard let json else {
                call.finish(error: .internalError("module \(call.slot.id) responded with a NULL result"))
                return MH_ERROR
            }
            guard length <= call.slot.maxResultBytes else {
                call.finish(error: HostAPI.oversized(call, "result", length))
                return MH_ERROR
            }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(json).assumingMemoryBound(to: UInt8.self), count: length)
            switch JSONScanner.check(bytes) {
            case .singleLine:
                call.finish(result: bytes)
            case .multiline:
                call.finish(result: JSONScanner.compacted(bytes))
            case .invalid:
                call.finish(error: .internalError("module \(call.slot.id) returned invalid JSON from \(call.method)"))
                return MH_ERROR
            }
            return MH_OK
        }
        table.pointee.fail = { call, code, message, messageLength, data, dataLength in
            guard let call = CallTable.shared.take(UInt64(UInt(bitPattern: call))) else { return MH_EXPIRED }
            guard messageLength + dataLength <= call.slot.maxResultBytes else {
                call.finish(error: HostAPI.oversized(call, "error", messageLength + dataLength))
                return MH_ERROR
            }
            let text = HostAPI.string(message, messageLength) ?? "module error"
            let details = HostAPI.json(data, dataLength)
            call.finish(error: HostAPI.moduleError(module: call.slot.id, code: code, message: text, data: details))
            return MH_OK
        }
        table.pointee.out_write = { out, bytes, length in
            guard let out, let bytes else { return MH_ERROR }
            let sink = Unmanaged<ByteSink>.fromOpaque(UnsafeRawPointer(out)).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: length))
            return MH_OK
        }
        table.pointee.publish = { ctx, topic, topicLength, data, dataLength in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let topic = HostAPI.string(topic, topicLength), !topic.isEmpty else { return MH_ERROR }
            let payload: [UInt8]
            if data == nil || dataLength == 0 {
                payload = Array("null".utf8)
            } else {
                guard let valid = HostAPI.json(data, dataLength) else { return MH_ERROR }
                payload = valid
            }
            guard !context.isShadow else { return MH_OK }  // a shadow's events stay with it
            context.runtime.events.publish(topic: topic, data: payload)
            return MH_OK
        }
        table.pointee.subscribe = { ctx, pattern, length in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard context.instance?.isAlive == true, let pattern = HostAPI.string(pattern, length), !pattern.isEmpty else {
                return MH_ERROR
            }
            context.runtime.events.subscribe(pattern, .module(context))
            return MH_OK
        }
        table.pointee.unsubscribe = { ctx, pattern, length in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let pattern = HostAPI.string(pattern, length) else { return MH_ERROR }
            context.runtime.events.unsubscribe(pattern, .module(context))
            return MH_OK
        }
        table.pointee.call = { ctx, method, methodLength, params, paramsLength, onReply, user in
            HostAPI.call(ctx, method, methodLength, params, paramsLength, deadlineMs: nil, onReply, user)
        }
        table.pointee.store_get = { ctx, key, keyLength, onValue, user in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let key, let onValue else { return MH_ERROR }
            do {
                let keyBytes = HostAPI.bytes(key, keyLength)
                let found = try context.overlay.map { try $0.get(keyBytes) } ?? context.runtime.store.get(module: context.moduleID, key: keyBytes)
                guard let value = found else { return 0 }
                value.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { onValue(user, key, keyLength, $0.baseAddress, $0.count) }
                }
                return 1
            } catch {
                context.logger.error("store_get failed: \(error)")
                return MH_ERROR
            }
        }
        table.pointee.store_put = { ctx, key, keyLength, value, valueLength in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let key else { return MH_ERROR }
            do {
                let valueBytes = value.map { HostAPI.bytes($0, valueLength) } ?? []
                if let overlay = context.overlay {
                    overlay.put(HostAPI.bytes(key, keyLength), valueBytes)
                } else {
                    try context.runtime.store.put(module: context.moduleID, key: HostAPI.bytes(key, keyLength), value: valueBytes)
                }
                return MH_OK
            } catch {
                context.logger.error("store_put failed: \(error)")
                return MH_ERROR
            }
        }
        table.pointee.store_delete = { ctx, key, keyLength in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let key else { return MH_ERROR }
            do {
                if let overlay = context.overlay {
                    overlay.delete(HostAPI.bytes(key, keyLength))
                } else {
                    try context.runtime.store.delete(module: context.moduleID, key: HostAPI.bytes(key, keyLength))
                }
                return MH_OK
            } catch {
                context.logger.error("store_delete failed: \(error)")
                return MH_ERROR
            }
        }
        table.pointee.store_list = { ctx, prefix, prefixLength, each, user in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            guard let each else { return MH_ERROR }
            do {
                let prefixBytes = prefix.map { HostAPI.bytes($0, prefixLength) } ?? []
                let entries = try context.overlay.map { try $0.list(prefix: prefixBytes) }
                    ?? context.runtime.store.list(module: context.moduleID, prefix: prefixBytes)
                for (key, value) in entries {
                    key.withUnsafeBufferPointer { k in
                        value.withUnsafeBufferPointer { v in
                            k.withMemoryRebound(to: CChar.self) { k in
                                v.withMemoryRebound(to: CChar.self) { v in each(user, k.baseAddress, k.count, v.baseAddress, v.count) }
                            }
                        }
                    }
                }
                return Int32(clamping: entries.count)
            } catch {
                context.logger.error("store_list failed: \(error)")
                return MH_ERROR
            }
        }
        table.pointee.now_ms = { ctx in
            guard let context = ModuleContext.from(ctx) else { return Int64(HostAPI.missing(ctx)) }
            return context.runtime.clock.nowMs
        }
        table.pointee.timer_start = { ctx, delay, repeatEvery, fn, user in
            guard let context = ModuleContext.from(ctx), context.instance?.isAlive == true, let fn else { return 0 }
            return context.runtime.timers.start(context: context, delayMs: delay, repeatMs: repeatEvery, fn: fn, user: user)
        }
        table.pointee.timer_cancel = { ctx, id in
            guard let context = ModuleContext.from(ctx) else { return HostAPI.missing(ctx) }
            return context.runtime.timers.cancel(id, of: context) ? MH_OK : MH_ERROR
        }
        HostAPI.installV2(in: table)
        return table
    }()

    /// `call` and `call_v2`: checks the arguments, then routes the call (a shadow's is refused
    /// through its reply: it must not reach other modules).
    static func call(_ ctx: OpaquePointer?, _ method: UnsafePointer<CChar>?, _ methodLength: Int, _ params: UnsafePointer<CChar>?,
                     _ paramsLength: Int, deadlineMs: UInt64?, _ onReply: mh_reply_fn?, _ user: UnsafeMutableRawPointer?) -> Int32 {
        guard let context = ModuleContext.from(ctx) else { return missing(ctx) }
        guard let name = string(method, methodLength), let onReply else { return MH_ERROR }
        if let deadlineMs, deadlineMs > MH_MAX_DEADLINE_MS {
            context.logger.error("call_v2 \(LogText.quote(name)): deadline_ms \(deadlineMs) is over the limit of \(MH_MAX_DEADLINE_MS) (24 h); the call was not made")
            return MH_ERROR
        }
        let paramsBytes: [UInt8]?
        if params == nil || paramsLength == 0 {
            paramsBytes = nil
        } else {
            guard let valid = json(params, paramsLength), valid.first == UInt8(ascii: "[") || valid.first == UInt8(ascii: "{") else {
                return MH_ERROR
            }
            paramsBytes = valid
        }
        let reply = ModuleReply(context: context, fn: onReply, user: user)
        guard !context.isShadow else {
            let refusal = RPCError.moduleUnavailable(name, "a shadow instance does not call other modules")
            reply.deliver(code: refusal.code, json: refusal.json)
            return MH_OK
        }
        context.runtime.callFromModule(method: name, params: paramsBytes, reply: reply, deadlineMs: deadlineMs)
        return MH_OK
    }

    /// Maps a plugin's `fail` to the JSON-RPC error the caller sees: invalid params and internal
    /// errors keep their code; anything else becomes `-32000` with the module and its own code.
    ///
    /// `data` is `{"module": id, "code": the module's code}` with the fields of the module's own
    /// data object lifted beside them (`{"reason": "no_target_available", "retryAfterMs": 1200}`
    /// reads as `data.reason`, `data.retryAfterMs`): the host's two fields win a clash, and a
    /// clashing module field stays under `data.details` (with the module's own `details`, if it
    /// has one); data that is not an object is `data.details` whole. Lifted fields come in name
    /// order.
    static func moduleError(module: String, code: Int32, message: String, data: [UInt8]?) -> RPCError {
        let kept = [RPCError.invalidParamsCode, RPCError.internalErrorCode, RPCError.methodNotFoundCode].contains(code)
        var object = JSONObject()
        object.add("module", module)
        object.add("code", code)
        if let data {
            if let fields = JSONMembers.raw(data) {
                // On a clash `details` holds the clashing members, so the module's own
                // `details` (if any) goes in there too rather than twice into `data`.
                let clashes = fields["module"] != nil || fields["code"] != nil
                let nested: Set<String> = clashes ? ["module", "code", "details"] : []
                var clashing = JSONObject()
                for name in fields.keys.sorted() {
                    if nested.contains(name) {
                        clashing.add(name, json: fields[name]!)
                    } else {
                        object.add(name, json: fields[name]!)
                    }
                }
                if clashes { object.add("details", json: clashing.result) }
            } else {
                object.add("details", json: data)
            }
        }
        return RPCError(code: kept ? code : RPCError.moduleErrorCode, message: message, data: object.result)
    }

    /// The -32603 a call gets instead of a result (or error) over `--max-result-bytes`.
    static func oversized(_ call: Call, _ what: String, _ length: Int) -> RPCError {
        RPCError(
            code: RPCError.internalErrorCode,
            message: "module \(call.slot.id) answered \(call.method) with a \(what) of \(length) bytes, over the limit of "
                + "\(call.slot.maxResultBytes) bytes (--max-result-bytes)",
            data: JSONObject.module(call.slot.id))
    }

    /// What a host function answers for a context it cannot find: `MH_ERROR` for NULL,
    /// `MH_EXPIRED` for a token whose instance was destroyed.
    static func missing(_ ctx: OpaquePointer?) -> Int32 {
        ctx == nil ? MH_ERROR : MH_EXPIRED
    }

    static func string(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> String? {
        guard let pointer else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    static func bytes(_ pointer: UnsafePointer<CChar>, _ length: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// The bytes if they hold one valid JSON value (made single-line), else nil.
    static func json(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> [UInt8]? {
        guard let pointer, length > 0 else { return nil }
        return JSONScanner.singleLine(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length))
    }
}
