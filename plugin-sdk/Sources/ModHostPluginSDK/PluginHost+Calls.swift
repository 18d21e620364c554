import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PluginHost {
    /// Calls another module's method, `"<module>.<method>"`, and gets the reply in `reply`.
    ///
    /// `reply` is called exactly once, on a host thread, queued with this instance's other
    /// entries: with the result JSON, with the callee's error (its JSON-RPC error object as a
    /// `PluginError`; -32004 once the deadline passed), or with an error if the instance is
    /// destroyed before the reply arrives.
    ///
    /// - Parameters:
    ///   - params: encoded as JSON; the default, `JSONValue.null`, sends no params.
    ///   - deadline: how long the callee has (`call_v2`, ABI 1.2), longer or shorter than the
    ///     host's `--call-timeout-ms`, up to 24 h; nil (the default) for `--call-timeout-ms`.
    /// - Throws: `PluginError` if `params` cannot be encoded, `deadline` is not within 1 ms to
    ///   24 h, the host lacks `call_v2` (a deadline on a host older than ABI 1.2), or the host
    ///   refuses the call; then `reply` is not called.
    public func call<Params: Encodable>(_ method: String, params: Params = JSONValue.null, deadline: Duration? = nil,
                                        reply: @escaping @Sendable (Result<RawJSON, PluginError>) -> Void) throws {
        let json = try encodeParams(params, for: method)
        let deadlineMs = try deadline.map { try Self.deadlineMilliseconds($0, for: method) }
        let replies = core.replies
        let table = core.table
        let status = try core.withOpenTable("call \(method)") { api, context in
            if deadlineMs != nil, api.pointee.call_v2 == nil { throw table.unsupported("call \(method) with a deadline (call_v2)", since: 2) }
            let user = replies.register(reply)
            let onReply: mh_reply_fn = { user, code, json, length in
                guard let user else { return }
                HostThread.entry { ReplyRegistry.deliver(user, PluginHost.replyResult(code: code, json: json, length: length)) }
            }
            let status = method.withCBytes { method, methodLength in
                Self.withOptionalBytes(json) { params, paramsLength in
                    if let deadlineMs {
                        return api.pointee.call_v2?(context, method, methodLength, params, paramsLength, deadlineMs, onReply, user) ?? MH_ERROR
                    }
                    return api.pointee.call?(context, method, methodLength, params, paramsLength, onReply, user) ?? MH_ERROR
                }
            }
            if status != MH_OK { replies.cancel(user) }
            return status
        }
        guard status == MH_OK else { throw PluginError.internalError("call \(method): refused by the host") }
    }

    /// Calls another module's method and awaits its reply as raw JSON.
    ///
    /// - Parameter deadline: as for `call(_:params:deadline:reply:)`.
    /// - Throws: the callee's error as a `PluginError`, `CancellationError` if the task is
    ///   cancelled first (the late reply is then dropped), or `PluginError` if the call could
    ///   not be made.
    public func call<Params: Encodable>(_ method: String, params: Params = JSONValue.null, deadline: Duration? = nil) async throws -> RawJSON {
        let once = ResumeOnce()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RawJSON, any Error>) in
                guard once.set(continuation) else { return }
                do {
                    try call(method, params: params, deadline: deadline) { once.resume(with: $0.mapError { $0 }) }
                } catch {
                    once.resume(with: .failure(error))
                }
            }
        } onCancel: {
            once.resume(with: .failure(CancellationError()))
        }
    }

    /// Calls another module's method and awaits its reply decoded as `Reply`.
    public func call<Params: Encodable, Reply: Decodable>(
        _ method: String, params: Params = JSONValue.null, deadline: Duration? = nil, as type: Reply.Type = Reply.self
    ) async throws -> Reply {
        let json: RawJSON = try await call(method, params: params, deadline: deadline)
        return try JSONValueDecoder().decode(type, from: json.data)
    }

    /// `deadline` in whole milliseconds (rounded up), within 1 ms ... 24 h.
    static func deadlineMilliseconds(_ deadline: Duration, for method: String) throws -> UInt64 {
        let (seconds, attoseconds) = deadline.components
        guard seconds >= 0, attoseconds >= 0, deadline > .zero else {
            throw PluginError.internalError("call \(method): the deadline must be positive, got \(deadline)")
        }
        let limitSeconds = Int64(MH_MAX_DEADLINE_MS / 1000)
        guard seconds < limitSeconds || (seconds == limitSeconds && attoseconds == 0) else {
            throw PluginError.internalError("call \(method): the deadline \(deadline) is over the limit of 24 h (MH_MAX_DEADLINE_MS)")
        }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        return UInt64(seconds) * 1000 + UInt64((attoseconds + perMillisecond - 1) / perMillisecond)
    }

    private func encodeParams(_ params: some Encodable, for method: String) throws -> Data? {
        if let value = params as? JSONValue, value == .null { return nil }
        do {
            return try core.encoder.encode(params)
        } catch {
            throw PluginError.internalError("call \(method): cannot encode params: \(error)")
        }
    }

    private static func withOptionalBytes<R>(_ data: Data?, _ body: (UnsafePointer<CChar>?, Int) -> R) -> R {
        guard let data else { return body(nil, 0) }
        return data.withCBytes(body)
    }

    /// A reply as the host gives it: `code` 0 and the result, or a JSON-RPC error object.
    static func replyResult(code: Int32, json: UnsafePointer<CChar>?, length: Int) -> Result<RawJSON, PluginError> {
        let data = Data(cBytes: json, count: length)
        guard code != 0 else { return .success(RawJSON(data)) }
        let bytes = [UInt8](data)
        guard let members = JSONMembers.raw(bytes), let codeText = members["code"], let messageText = members["message"],
            let errorCode = try? JSONValueDecoder().decode(Int32.self, from: codeText),
            let message = try? JSONValueDecoder().decode(String.self, from: messageText)
        else {
            return .failure(PluginError(code: PluginError.Code(rawValue: code), String(decoding: data, as: UTF8.self)))
        }
        let errorData = members["data"].map { RawJSON(Data($0)) }
        return .failure(PluginError(code: PluginError.Code(rawValue: errorCode), message, data: errorData))
    }
}
