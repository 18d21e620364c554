import Dispatch
import Synchronization

/// Where the outcome of a call goes.
enum ReplyTarget: Sendable {
    /// A notification from a control-channel client: the call runs, its outcome is dropped.
    case notification(ChannelClient)
    /// A single request from a control-channel client: one response line.
    case channel(ChannelClient)
    /// One element of a batch: the collector writes the batch's array when all are in.
    case batch(BatchCollector)
    /// A call made by another module through `mh_host_api.call`.
    case module(ModuleReply)
    /// A call the host itself made (shadow mirroring, scheduled jobs, tests of the runtime).
    case handler(@Sendable (CallOutcome) -> Void)

    /// A single request's call is counted as answered once its line is queued, before it can reach
    /// the client (a client that sends its next call on reading the answer finds this one done).
    var countsOnQueueing: Bool {
        if case .channel = self { true } else { false }
    }

    /// The control-channel client the call came from, told when it is done (backpressure).
    var client: ChannelClient? {
        switch self {
        case .notification(let client), .channel(let client): client
        case .batch(let collector): collector.client
        case .module, .handler: nil
        }
    }
}

enum CallOutcome: Sendable {
    case result([UInt8])
    case error(RPCError)
}

/// One call to a module method: its id and params bytes, the target method, and where its
/// outcome goes. Completed exactly once through `finish`, which the call table guarantees for
/// calls handed to a plugin.
final class Call: @unchecked Sendable {
    let method: String
    /// When the caller stops waiting: the call then fails with -32004 wherever it is (queued,
    /// inside the plugin's `handle`, or pending).
    let timeout: CallDeadline
    /// The client a mirrored call reports (see `init`); nil: `reply`'s.
    private let mirroredClient: UInt64?
    /// 0 while queued; whoever moves it on first (the worker starting it, the timeout, a closing
    /// mailbox) owns finishing it. See `claim()`.
    private let claimed = Atomic<Bool>(false)
    let slot: ModuleSlot
    let reply: ReplyTarget
    /// The raw id bytes, then the params bytes, then a NUL (plugins get NUL-terminated params).
    private let storage: [UInt8]
    private let idCount: Int
    /// The instance generation and C method name resolved for it, to skip a lookup at run time.
    var resolved: (generation: Int, name: UnsafePointer<CChar>, length: Int)?
    /// The client had no other call in the host when this one was read (`ControlChannel`): its
    /// answer is written at once from the thread that has it, when nothing is queued ahead
    /// (`OutputWriter.writeLine(now:)`). Decided by the reader, so the thread that answers reads
    /// no counter the reader writes.
    var sole = false
    /// Also told the outcome (shadow mode compares it with the shadow's). Set before the call
    /// is handed to the plugin.
    var observer: (@Sendable (CallOutcome, _ nanoseconds: UInt64) -> Void)?
    /// The metrics series the call counts in (set when its generation starts running it).
    private var series: MethodSeries?
    /// When its generation started running it (`DispatchTime` nanoseconds); 0: not timed.
    private var startedAt: UInt64 = 0

    /// - Parameter clientID: the client to report (`call_client`) when it is not `reply`'s, as
    ///   for a mirrored call of a shadow.
    init(method: String, slot: ModuleSlot, reply: ReplyTarget, id: UnsafeBufferPointer<UInt8>?, params: UnsafeBufferPointer<UInt8>?,
         deadline: CallDeadline, clientID: UInt64? = nil) {
        self.method = method
        self.timeout = deadline
        self.mirroredClient = clientID
        self.slot = slot
        self.reply = reply
        let idCount = id?.count ?? 0
        let paramsCount = params?.count ?? 4
        var storage = [UInt8]()
        storage.reserveCapacity(idCount + paramsCount + 1)
        if let id { storage.append(contentsOf: id) }
        if let params { storage.append(contentsOf: params) } else { storage.append(contentsOf: "null".utf8) }
        storage.append(0)
        self.storage = storage
        self.idCount = idCount
    }

    /// The control-channel client the call came from (`call_client`): its id, or 0 for a call
    /// a module or the host made. Worked out when asked: plugins rarely do.
    var clientID: UInt64 { mirroredClient ?? reply.client?.id ?? 0 }

    /// The deadline on the monotonic clock (`DispatchTime.uptimeNanoseconds`).
    @inline(__always)
    var deadline: UInt64 { timeout.nanoseconds }

    /// The -32004 the call fails with once its deadline passed.
    var timedOut: RPCError {
        RPCError(
            code: RPCError.timedOutCode,
            message: "Call timed out: \(slot.id).\(method) was not completed within \(timeout.milliseconds) ms (\(timeout.origin))",
            data: JSONObject.module(slot.id))
    }

    /// Takes the queued call for the caller: true exactly once. A worker claims a call before
    /// running it; the timeout and a closing mailbox claim it before failing it.
    @inline(__always)
    func claim() -> Bool {
        !claimed.exchange(true, ordering: .acquiringAndReleasing)
    }

    /// Calls `body` with the NUL-terminated params and their length (without the NUL).
    @inline(__always)
    func withParams<R>(_ body: (UnsafePointer<CChar>, Int) -> R) -> R {
        storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress! + idCount).assumingMemoryBound(to: CChar.self)
            return body(base, buffer.count - idCount - 1)
        }
    }

    /// The call starts running on an instance: counted in flight in `series` and timed (also
    /// when only an observer wants its latency).
    @inline(__always)
    func started(_ series: MethodSeries?) {
        guard series != nil || observer != nil else { return }
        self.series = series
        startedAt = DispatchTime.now().uptimeNanoseconds
        series?.begin()
    }

    /// At the answer: the time since `started` (0 when not timed), recorded in the series.
    @inline(__always)
    private func answered(errorCode: Int32?) -> UInt64 {
        guard startedAt != 0 else { return 0 }
        let elapsed = DispatchTime.now().uptimeNanoseconds &- startedAt
        series?.end(nanoseconds: elapsed, errorCode: errorCode)
        return elapsed
    }

    var paramsBytes: [UInt8] { Array(storage[idCount..<storage.count - 1]) }

    func finish(result: UnsafeBufferPointer<UInt8>) {
        defer { if !reply.countsOnQueueing { reply.client?.callFinished() } }
        let elapsed = answered(errorCode: nil)
        observer?(.result(Array(result)), elapsed)
        switch reply {
        case .notification:
            return
        case .channel(let client):
            client.output.writeLine(now: sole, queued: client.callFinished) { out in appendResponse(to: &out) { $0.append(contentsOf: result) } }
        case .batch(let collector):
            var out: [UInt8] = []
            appendResponse(to: &out) { $0.append(contentsOf: result) }
            collector.add(out)
        case .module(let reply):
            reply.deliver(code: 0, json: Array(result))
        case .handler(let handler):
            handler(.result(Array(result)))
        }
    }

    func finish(result: [UInt8]) {
        result.withUnsafeBufferPointer { finish(result: $0) }
    }

    func finish(error: RPCError) {
        defer { if !reply.countsOnQueueing { reply.client?.callFinished() } }
        let elapsed = answered(errorCode: error.code)
        observer?(.error(error), elapsed)
        switch reply {
        case .notification:
            return
        case .channel(let client):
            client.output.writeLine(now: sole, queued: client.callFinished) { out in appendResponse(to: &out, error: error) }
        case .batch(let collector):
            var out: [UInt8] = []
            appendResponse(to: &out, error: error)
            collector.add(out)
        case .module(let reply):
            reply.deliver(code: error.code, json: error.json)
        case .handler(let handler):
            handler(.error(error))
        }
    }

    private func appendResponse(to out: inout [UInt8], result: (inout [UInt8]) -> Void) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: storage[0..<idCount])
        out.append(contentsOf: #","result":"#.utf8)
        result(&out)
        out.append(UInt8(ascii: "}"))
    }

    private func appendResponse(to out: inout [UInt8], error: RPCError) {
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: storage[0..<idCount])
        out.append(contentsOf: #","error":"#.utf8)
        error.appendJSON(to: &out)
        out.append(UInt8(ascii: "}"))
    }
}

/// Builds one JSON-RPC response line for an id given as raw bytes (or null).
enum RPCResponse {
    static func error(id: UnsafeBufferPointer<UInt8>?, _ error: RPCError) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        if let id { out.append(contentsOf: id) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","error":"#.utf8)
        error.appendJSON(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func result(id: [UInt8], _ result: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(id.count + result.count + 32)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: id)
        out.append(contentsOf: #","result":"#.utf8)
        out.append(contentsOf: result)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
