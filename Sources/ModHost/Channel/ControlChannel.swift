import CModHostShims
import Foundation
import Synchronization

/// The JSON-RPC 2.0 control channel of one client (stdio, or one socket connection): reads
/// newline-delimited requests from a file descriptor, routes them, and writes responses through
/// the client's `OutputWriter`. Every client has its own, so ids, batches and the bounds of
/// backpressure are per connection.
///
/// Reading and routing happen on one thread at a time (the one holding the reader role), in
/// input order, so calls to one module are queued in the order they arrived. Module calls then
/// run on their module's mailbox; host methods that block (load, unload, clock) run on the
/// control queue; responses may come out of order.
///
/// **Leader and follower** (the idle one-at-a-time path, issue 17): when a read brings a single
/// call, the client's only one in the host, for a serial module that is idle, the reader runs the call itself (`Mailbox.claimInPlace`)
/// instead of waking the module's worker, and its reply is written from the same thread
/// (`OutputWriter`): no thread hand-off. Before it enters the plugin it gives up the reader role
/// and arms a standby thread, asleep in `epoll_wait` on the descriptor: if input arrives while
/// the call runs (a pipelining client, or a plugin that blocks), the standby becomes the reader,
/// so a plugin blocked in a call still holds up only its own module. Nothing wakes the standby
/// otherwise. Back from the call, the thread reads on if the role is still free, else becomes
/// a standby itself. A descriptor epoll cannot watch (a regular file) is read the plain way,
/// every call posted to its mailbox.
final class ControlChannel: @unchecked Sendable {
    private let runtime: HostRuntime
    private let methods: HostMethods
    /// The client this channel reads.
    let client: ChannelClient
    /// Held while a line is dispatched; `stopAccepting` takes it, so once it returns nothing
    /// more reaches modules or the control queue.
    private let accepting = Mutex<Bool>(true)
    /// Calls routed from the chunk being read, per mailbox, posted together after it: one lock
    /// and one wake-up per module per chunk instead of per call. Reader role only.
    private var routed: [(mailbox: Mailbox, calls: [Call])] = []
    /// The next call read is the client's only one in the host (`Call.sole`): set once per
    /// chunk, from the counters, and cleared by the first call of it. Reader role only.
    private var soleNext = false

    /// How much of a line is read at once before the buffer grows: stdio, the busiest client,
    /// reads in large chunks; a socket connection starts small, so 64 idle clients cost little.
    private let readCapacity: Int

    // What has been read and not dispatched yet: the reader role's only.
    private var buffer: UnsafeMutablePointer<UInt8>?
    private var capacity = 0
    private var initialCapacity = 0
    private var start = 0  // first unconsumed byte
    private var end = 0  // end of valid data
    private var scanned = 0  // bytes from `start` already searched for a newline
    private var discarding = false

    /// Threads of one channel (the reader, its standbys, threads in a call) at most: past it,
    /// calls are posted to their mailboxes as before.
    static let maxThreads = 8

    init(runtime: HostRuntime, methods: HostMethods, client: ChannelClient, readCapacity: Int = 1 << 20) {
        self.runtime = runtime
        self.methods = methods
        self.client = client
        self.readCapacity = readCapacity
    }

    deinit { buffer?.deallocate() }

    /// Stops handling input; lines read afterwards are ignored (the host is shutting down).
    func stopAccepting() { accepting.withLock { $0 = false } }

    /// Reads `fd` until end of input (or an error, or the client is being closed), and returns
    /// then, on the calling thread, even while a thread of the channel is still inside a call. A
    /// line longer than the configured limit is answered with `-32600` (with the line's id when
    /// its first `--max-line-bytes` hold one) and skipped up to its newline, so the channel stays
    /// in sync; it is never held whole. Before each read it waits while the client is over its
    /// bounds (`ChannelClient.waitForRoom`); after a long line the buffer shrinks back.
    func serve(fd: Int32) {
        initialCapacity = min(readCapacity, runtime.configuration.maxLineBytes + 1)
        capacity = initialCapacity
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        guard let relay = Relay(fd: fd) else {
            while case .more = readChunk(fd: fd, relay: nil) {}
            return
        }
        relay.spawn(leading: true) { [self] leading in member(relay, leading: leading) }
        relay.waitUntilEnded()
    }

    /// One thread of the channel: the reader (`leading`), or a standby until input comes while
    /// the reader is inside a call.
    private func member(_ relay: Relay, leading initially: Bool) {
        var leading = initially
        while true {
            if !leading {
                relay.waitForInput()
                switch relay.takeRole(standby: true) {
                case .exit: return
                case .wait: continue
                case .lead: leading = true
                }
            }
            switch readChunk(fd: relay.fd, relay: relay) {
            case .more:
                continue
            case .ended:
                relay.end()
                return
            case .inPlace(let mailbox, let call):
                if relay.leave() { relay.spawn(leading: false) { [self] leading in member(relay, leading: leading) } }
                relay.arm(true)
                DeferredRun.open()
                mailbox.runInPlace(call)
                DeferredRun.drain()
                switch relay.takeRole(standby: false) {
                case .exit: return
                case .lead: relay.arm(false)
                case .wait: leading = false
                }
            }
        }
    }

    private enum ChunkOutcome {
        case more
        case ended
        /// A call claimed on its idle mailbox, for the reader to run itself.
        case inPlace(Mailbox, Call)
    }

    /// Reads one chunk and dispatches its lines. With a relay, a chunk that brings a single call
    /// for an idle serial module leaves it claimed for the reader to run (see the type's notes).
    private func readChunk(fd: Int32, relay: Relay?) -> ChunkOutcome {
        let limit = runtime.configuration.maxLineBytes
        guard var buffer else { return .ended }
        defer { self.buffer = buffer }
        if end == capacity {
            if start > 0 {
                memmove(buffer, buffer + start, end - start)
                end -= start
                start = 0
            } else {
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                grown.update(from: buffer, count: end)
                buffer.deallocate()
                buffer = grown
                capacity *= 2
            }
        }
        client.waitForRoom()
        let count = client.isClosing ? 0 : read(fd, buffer + end, capacity - end)
        if count < 0 && errno == EINTR { return .more }
        if count <= 0 {
            // End of input: a last line without a newline still counts (not when the host
            // ended the connection: what it holds then is cut short).
            if !discarding && end > start && !client.isClosing {
                let last = UnsafeBufferPointer(start: buffer + start, count: end - start)
                accepting.withLock { accepting in if accepting { dispatch(last) } }
            }
            postRouted()
            return .ended
        }
        end += count
        soleNext = client.callsInFlight == 0
        // One chunk's lines under one lock: `stopAccepting` waits for the chunk in hand.
        accepting.withLock { accepting in
            while let newline = memchr(buffer + start + scanned, 0x0A, end - start - scanned) {
                let lineEnd = UnsafeMutablePointer<UInt8>(newline.assumingMemoryBound(to: UInt8.self)) - buffer
                if discarding {
                    discarding = false
                } else if lineEnd - start > limit {
                    refuseOverlongLine(limit, UnsafeBufferPointer(start: buffer + start, count: lineEnd - start))
                } else if accepting {
                    var length = lineEnd - start
                    if length > 0 && buffer[start + length - 1] == 0x0D { length -= 1 }
                    dispatch(UnsafeBufferPointer(start: buffer + start, count: length))
                }
                start = lineEnd + 1
                scanned = 0
            }
        }
        var outcome = ChunkOutcome.more
        // One call, and the client's only one in the host (it waits for the answer): a pipelining
        // client's calls are posted, so reading and running overlap.
        if let relay, routed.count == 1, routed[0].calls.count == 1, routed[0].calls[0].sole, relay.mayRunInPlace,
           routed[0].mailbox.claimInPlace(routed[0].calls[0]) {
            outcome = .inPlace(routed[0].mailbox, routed[0].calls[0])
            routed.removeAll(keepingCapacity: true)
        } else {
            postRouted()
        }
        scanned = end - start
        if discarding || end - start > limit {
            if !discarding {
                discarding = true
                refuseOverlongLine(limit, UnsafeBufferPointer(start: buffer + start, count: end - start))
            }
            start = 0
            end = 0
            scanned = 0
        }
        if start == end {
            start = 0
            end = 0
            if capacity > initialCapacity {
                buffer.deallocate()
                capacity = initialCapacity
                buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
                ReleaseMemory.afterLargeBuffer()
            }
        }
        return outcome
    }

    /// Answers a line over the limit, with its id when the part read holds one (so a client
    /// waiting for that id gets its answer).
    private func refuseOverlongLine(_ limit: Int, _ prefix: UnsafeBufferPointer<UInt8>) {
        let id = RPCEnvelope.id(inPrefix: prefix).map { UnsafeBufferPointer(rebasing: prefix[$0]) }
        client.output.writeLine(RPCResponse.error(id: id, .invalidRequest(
            "Invalid Request: line exceeds the limit of \(limit) bytes (--max-line-bytes); skipped; send a shorter line or restart the host with a higher --max-line-bytes")))
    }

    private func postRouted() {
        for (mailbox, calls) in routed { mailbox.post(calls: calls) }
        routed.removeAll(keepingCapacity: true)
    }

    /// Handles one line: a request, a notification, a batch, or something to answer with an
    /// error. Calls it routes are queued; their mailboxes are woken after the chunk.
    private func dispatch(_ line: UnsafeBufferPointer<UInt8>) {
        switch RPCEnvelope.parse(line) {
        case .blank:
            return
        case .parseError(let message):
            client.output.writeLine(RPCResponse.error(id: nil, RPCError(code: RPCError.parseErrorCode, message: message)))
        case .tooDeep(let message):
            client.output.writeLine(RPCResponse.error(id: nil, .invalidRequest(message)))
        case .single(let entry):
            dispatch(entry, line, batch: nil)
        case .batch(let entries):
            let expected = entries.reduce(0) { count, entry in
                if case .request(let request) = entry, request.id == nil { return count }
                return count + 1
            }
            let collector = expected > 0 ? BatchCollector(expected: expected, client: client) : nil
            for entry in entries { dispatch(entry, line, batch: collector) }
        }
    }

    private func dispatch(_ entry: RPCEntry, _ line: UnsafeBufferPointer<UInt8>, batch: BatchCollector?) {
        switch entry {
        case .invalid(let id, let message):
            let response = RPCResponse.error(id: id.map { UnsafeBufferPointer(rebasing: line[$0]) }, .invalidRequest(message))
            if let batch { batch.add(response) } else { client.output.writeLine(response) }
        case .request(let request):
            let id = request.id.map { UnsafeBufferPointer(rebasing: line[$0]) }
            let params = request.params.map { UnsafeBufferPointer(rebasing: line[$0]) }
            let reply: ReplyTarget = id == nil ? .notification(client) : batch.map { .batch($0) } ?? .channel(client)
            if methods.handles(request.method) {
                postRouted()  // calls read before a host method are queued before it runs
                soleNext = false
                client.callStarted()
                methods.dispatch(request.method, params: params.map(Array.init), id: id.map(Array.init), reply: reply)
                return
            }
            // While a load is in progress, a call to a module not known yet waits for it.
            if runtime.loads.park(request.method, reply: reply, id: id, params: params) {
                soleNext = false  // it counts as in flight
                return
            }
            switch runtime.route(request.method) {
            case .success(let target):
                let call = Call(method: target.method, slot: target.slot, reply: reply, id: id, params: params,
                                deadline: runtime.defaultDeadline())
                client.callStarted()
                call.sole = soleNext
                soleNext = false
                call.resolved = target.resolved
                let mailbox = target.slot.mailbox
                if let index = routed.lastIndex(where: { $0.mailbox === mailbox }) {
                    routed[index].calls.append(call)
                } else {
                    routed.append((mailbox, [call]))
                }
            case .failure(let error):
                guard id != nil else { return }
                let response = RPCResponse.error(id: id, error)
                if let batch { batch.add(response) } else { client.output.writeLine(response) }
            }
        }
    }
}

/// Who reads a channel (see `ControlChannel`): the reader role, the standby threads asleep on the
/// descriptor's epoll watch, and the end of input.
private final class Relay: @unchecked Sendable {
    let fd: Int32
    private let epoll: Int32
    private let wake: Int32
    private struct Roles {
        /// A thread holds the reader role.
        var reading = true
        /// Threads waiting for input (or about to).
        var standbys = 0
        /// Threads of the channel that have not returned.
        var threads = 0
        var ended = false
    }
    private let roles = Mutex(Roles())
    private let ended = DispatchSemaphore(value: 0)

    /// Nil when epoll cannot watch `fd` (a regular file).
    init?(fd: Int32) {
        var wake: Int32 = -1
        let epoll = mh_shim_standby_create(fd, &wake)
        guard epoll >= 0 else { return nil }
        self.fd = fd
        self.epoll = epoll
        self.wake = wake
    }

    deinit {
        close(epoll)
        close(wake)
    }

    enum Next { case lead, wait, exit }

    /// Starts a thread of the channel (the first reader, or a standby).
    func spawn(leading: Bool, _ body: @escaping @Sendable (Bool) -> Void) {
        roles.withLock { roles in
            roles.threads += 1
            if !leading { roles.standbys += 1 }
        }
        let thread = Thread {
            CrashReport.prepareThread()
            body(leading)
        }
        thread.name = leading ? "modhost-reader" : "modhost-standby"
        thread.start()
    }

    /// Whether the reader may run a call itself: a standby is there to take over reading, or one
    /// can be started.
    var mayRunInPlace: Bool { roles.withLock { $0.standbys > 0 || $0.threads < ControlChannel.maxThreads } }

    /// The reader gives up its role to run a call; returns true when a standby must be started.
    func leave() -> Bool {
        roles.withLock { roles in
            roles.reading = false
            return roles.standbys == 0
        }
    }

    /// Takes the reader role if nobody holds it (`.lead`); a thread that does not get it waits
    /// for input as a standby (`.wait`); `.exit` once input has ended.
    func takeRole(standby: Bool) -> Next {
        roles.withLock { roles in
            if roles.ended {
                roles.threads -= 1
                if standby { roles.standbys -= 1 }
                return .exit
            }
            if !roles.reading {
                roles.reading = true
                if standby { roles.standbys -= 1 }
                return .lead
            }
            if !standby { roles.standbys += 1 }
            return .wait
        }
    }

    /// Arms (or disarms) the watch that wakes one standby when input arrives.
    func arm(_ on: Bool) { _ = mh_shim_standby_arm(epoll, fd, on ? 1 : 0) }

    func waitForInput() { mh_shim_standby_wait(epoll) }

    /// The reader saw the end of input: every standby returns, and so does `serve`.
    func end() {
        roles.withLock { roles in
            roles.ended = true
            roles.reading = false
            roles.threads -= 1
        }
        mh_shim_standby_end(wake)
        ended.signal()
    }

    func waitUntilEnded() { ended.wait() }
}
