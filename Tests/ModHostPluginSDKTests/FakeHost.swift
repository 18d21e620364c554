import CModHost
import Foundation
import Synchronization

/// A host function table whose functions record what the plugin does, for driving the SDK
/// through its real C descriptor in-process. Everything is reached through the opaque
/// handles (`mh_context`, `mh_call`, `mh_out` are pointers to these objects), so tests
/// running in parallel never share state.
final class FakeHost: @unchecked Sendable {
    /// `@unchecked Sendable`: holds the plugin's opaque `user` pointer and C function.
    struct PendingReply: @unchecked Sendable {
        let method: String
        let params: String?
        /// The deadline given with `call_v2`; nil for `call`.
        var deadlineMs: UInt64? = nil
        let fn: mh_reply_fn
        let user: UnsafeMutableRawPointer?
    }

    /// `@unchecked Sendable`: holds the plugin's opaque `user` pointer and C function.
    struct Timer: @unchecked Sendable {
        let delay: UInt64
        let repeatMs: UInt64
        let fn: mh_timer_fn
        let user: UnsafeMutableRawPointer?
    }

    struct State {
        var logs: [(level: Int32, message: String)] = []
        var published: [(topic: String, data: String?)] = []
        var subscriptions: [String] = []
        var store: [String: Data] = [:]
        var replies: [PendingReply] = []
        var timers: [UInt64: Timer] = [:]
        var firedTimers: [UInt64: Timer] = [:]
        var nextTimer: UInt64 = 1
        var nowMs: Int64 = 1_700_000_000_123
        /// What `notify_client` sent: (client, topic, data).
        var notified: [(client: UInt64, topic: String, data: String?)] = []
    }

    let state = Mutex(State())
    let api: UnsafeMutablePointer<mh_host_api>

    /// The client ids `notify_client` knows.
    static let connectedClients: Set<UInt64> = [1]

    /// A host of ABI 1.`minor`: its table's `struct_size` ends where that minor's functions end
    /// (1.1: after `timer_cancel`), or is `tableSize` when given.
    init(minor: Int = Int(MH_ABI_MINOR), tableSize: Int? = nil) {
        api = .allocate(capacity: 1)
        var table = Self.table()
        table.abi_version = (UInt32(MH_ABI_MAJOR) << 16) | UInt32(minor)
        table.struct_size = UInt32(tableSize ?? (minor >= 2 ? MemoryLayout<mh_host_api>.size
                                                 : MemoryLayout<mh_host_api>.offset(of: \mh_host_api.call_v2)!))
        api.initialize(to: table)
    }

    deinit {
        api.deinitialize(count: 1)
        api.deallocate()
    }

    var context: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    var logs: [String] { state.withLock { $0.logs.map(\.message) } }

    /// Fires timer `id` as the host would.
    func fireTimer(_ id: UInt64) {
        guard let timer = state.withLock({ $0.timers[id] }) else { return }
        if timer.repeatMs == 0 {
            state.withLock { $0.firedTimers[id] = $0.timers.removeValue(forKey: id) }
        }
        timer.fn(timer.user, id)
    }

    /// Delivers the reply to the oldest outstanding `call`; `false` if there is none.
    @discardableResult
    func reply(code: Int32 = 0, _ json: String) -> Bool {
        guard let pending = state.withLock({ $0.replies.isEmpty ? nil : $0.replies.removeFirst() }) else { return false }
        json.withCString { pending.fn(pending.user, code, $0, strlen($0)) }
        return true
    }

    private static func host(_ context: OpaquePointer?) -> FakeHost {
        Unmanaged<FakeHost>.fromOpaque(UnsafeRawPointer(context!)).takeUnretainedValue()
    }

    private static func text(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private static func table() -> mh_host_api {
        var api = mh_host_api()
        api.abi_version = (UInt32(MH_ABI_MAJOR) << 16) | UInt32(MH_ABI_MINOR)
        api.struct_size = UInt32(MemoryLayout<mh_host_api>.size)
        api.log = { context, level, message, length in
            let line = FakeHost.text(message, length)
            FakeHost.host(context).state.withLock { $0.logs.append((level, line)) }
        }
        api.respond = { call, json, length in
            FakeCall.from(call).complete(.result(FakeHost.text(json, length)))
        }
        api.fail = { call, code, message, messageLength, data, dataLength in
            FakeCall.from(call).complete(.error(code: code, message: FakeHost.text(message, messageLength),
                                                data: data == nil ? nil : FakeHost.text(data, dataLength)))
        }
        api.out_write = { out, bytes, length in
            FakeSink.from(out).append(FakeHost.text(bytes, length))
            return MH_OK
        }
        api.publish = { context, topic, topicLength, data, dataLength in
            guard topicLength > 0 else { return MH_ERROR }
            let event = (FakeHost.text(topic, topicLength), data == nil ? nil : FakeHost.text(data, dataLength))
            FakeHost.host(context).state.withLock { $0.published.append(event) }
            return MH_OK
        }
        api.subscribe = { context, pattern, length in
            let pattern = FakeHost.text(pattern, length)
            FakeHost.host(context).state.withLock { $0.subscriptions.append(pattern) }
            return MH_OK
        }
        api.unsubscribe = { context, pattern, length in
            let pattern = FakeHost.text(pattern, length)
            return FakeHost.host(context).state.withLock { state in
                guard let index = state.subscriptions.firstIndex(of: pattern) else { return MH_ERROR }
                state.subscriptions.remove(at: index)
                return MH_OK
            }
        }
        api.call = { context, method, methodLength, params, paramsLength, fn, user in
            guard let fn, methodLength > 0 else { return MH_ERROR }
            let pending = PendingReply(method: FakeHost.text(method, methodLength),
                                       params: params == nil ? nil : FakeHost.text(params, paramsLength), fn: fn, user: user)
            FakeHost.host(context).state.withLock { $0.replies.append(pending) }
            return MH_OK
        }
        api.call_v2 = { context, method, methodLength, params, paramsLength, deadlineMs, fn, user in
            guard let fn, methodLength > 0, deadlineMs <= MH_MAX_DEADLINE_MS else { return MH_ERROR }
            var pending = PendingReply(method: FakeHost.text(method, methodLength),
                                       params: params == nil ? nil : FakeHost.text(params, paramsLength), fn: fn, user: user)
            pending.deadlineMs = deadlineMs
            FakeHost.host(context).state.withLock { $0.replies.append(pending) }
            return MH_OK
        }
        api.call_remaining_ms = { call in
            let call = FakeCall.from(call)
            return call.outcome == nil ? call.remainingMs : Int64(MH_EXPIRED)
        }
        api.call_client = { call in
            let call = FakeCall.from(call)
            return call.outcome == nil ? Int64(call.clientID) : Int64(MH_EXPIRED)
        }
        api.notify_client = { context, client, topic, topicLength, data, dataLength in
            guard topicLength > 0 else { return MH_ERROR }
            guard FakeHost.connectedClients.contains(client) else { return MH_NO_CLIENT }
            let sent = (client, FakeHost.text(topic, topicLength), data == nil ? nil : FakeHost.text(data, dataLength))
            FakeHost.host(context).state.withLock { $0.notified.append(sent) }
            return MH_OK
        }
        api.store_get = { context, key, keyLength, onValue, user in
            let key = FakeHost.text(key, keyLength)
            guard let value = FakeHost.host(context).state.withLock({ $0.store[key] }) else { return 0 }
            value.withUnsafeBytes { bytes in
                key.withCString { onValue?(user, $0, strlen($0), bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) }
            }
            return 1
        }
        api.store_put = { context, key, keyLength, value, valueLength in
            let key = FakeHost.text(key, keyLength)
            let value = value.map { Data(bytes: $0, count: valueLength) } ?? Data()
            FakeHost.host(context).state.withLock { $0.store[key] = value }
            return MH_OK
        }
        api.store_delete = { context, key, keyLength in
            let key = FakeHost.text(key, keyLength)
            _ = FakeHost.host(context).state.withLock { $0.store.removeValue(forKey: key) }
            return MH_OK
        }
        api.store_list = { context, prefix, prefixLength, each, user in
            let prefix = FakeHost.text(prefix, prefixLength)
            let entries = FakeHost.host(context).state.withLock { $0.store.filter { $0.key.hasPrefix(prefix) } }
            for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                value.withUnsafeBytes { bytes in
                    key.withCString { each?(user, $0, strlen($0), bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) }
                }
            }
            return Int32(entries.count)
        }
        api.now_ms = { context in FakeHost.host(context).state.withLock { $0.nowMs } }
        api.timer_start = { context, delay, repeatMs, fn, user in
            guard let fn else { return 0 }
            return FakeHost.host(context).state.withLock { state in
                let id = state.nextTimer
                state.nextTimer += 1
                state.timers[id] = Timer(delay: delay, repeatMs: repeatMs, fn: fn, user: user)
                return id
            }
        }
        api.timer_cancel = { context, id in
            FakeHost.host(context).state.withLock { $0.timers.removeValue(forKey: id) } == nil ? MH_ERROR : MH_OK
        }
        return api
    }
}

/// One call handed to `handle`: records how the plugin completed it.
final class FakeCall: Sendable {
    enum Outcome: Equatable, Sendable {
        case result(String)
        case error(code: Int32, message: String, data: String?)
    }

    private let state = Mutex<(outcome: Outcome?, completions: Int)>((nil, 0))
    /// What `call_client` and `call_remaining_ms` answer while the call is open.
    let clientID: UInt64
    let remainingMs: Int64

    init(clientID: UInt64 = 1, remainingMs: Int64 = 1234) {
        self.clientID = clientID
        self.remainingMs = remainingMs
    }

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer?) -> FakeCall {
        Unmanaged<FakeCall>.fromOpaque(UnsafeRawPointer(pointer!)).takeUnretainedValue()
    }

    func complete(_ outcome: Outcome) -> Int32 {
        state.withLock { state in
            state.completions += 1
            guard state.outcome == nil else { return MH_EXPIRED }
            state.outcome = outcome
            return MH_OK
        }
    }

    var outcome: Outcome? { state.withLock { $0.outcome } }
    var completions: Int { state.withLock { $0.completions } }

    /// Waits (up to five seconds) for a completion from another thread.
    func completion() async throws -> Outcome? {
        for _ in 0..<5_000 {
            if let outcome { return outcome }
            try await Task.sleep(for: .milliseconds(1))
        }
        return outcome
    }
}

/// An `mh_out` sink.
final class FakeSink: Sendable {
    private let bytes = Mutex("")

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer?) -> FakeSink {
        Unmanaged<FakeSink>.fromOpaque(UnsafeRawPointer(pointer!)).takeUnretainedValue()
    }

    func append(_ text: String) { bytes.withLock { $0 += text } }

    var text: String { bytes.withLock { $0 } }
}
