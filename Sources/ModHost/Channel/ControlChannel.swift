import Foundation
import Synchronization

/// The JSON-RPC 2.0 control channel of one client (stdio, or one socket connection): reads
/// newline-delimited requests from a file descriptor, routes them, and writes responses through
/// the client's `OutputWriter`. Every client has its own, so ids, batches and the bounds of
/// backpressure are per connection.
///
/// Reading and routing happen on one thread, in input order, so calls to one module are queued in
/// the order they arrived. Module calls then run on their module's mailbox; host methods that
/// block (load, unload, clock) run on the control queue; responses may come out of order.
final class ControlChannel: @unchecked Sendable {
    private let runtime: HostRuntime
    private let methods: HostMethods
    /// The client this channel reads.
    let client: ChannelClient
    /// Held while a line is dispatched; `stopAccepting` takes it, so once it returns nothing
    /// more reaches modules or the control queue.
    private let accepting = Mutex<Bool>(true)
    /// Calls routed from the chunk being read, per mailbox, posted together after it: one lock
    /// and one wake-up per module per chunk instead of per call. Reader thread only.
    private var routed: [(mailbox: Mailbox, calls: [Call])] = []

    /// How much of a line is read at once before the buffer grows: stdio, the busiest client,
    /// reads in large chunks; a socket connection starts small, so 64 idle clients cost little.
    private let readCapacity: Int

    init(runtime: HostRuntime, methods: HostMethods, client: ChannelClient, readCapacity: Int = 1 << 20) {
        self.runtime = runtime
        self.methods = methods
        self.client = client
        self.readCapacity = readCapacity
    }

    /// Stops handling input; lines read afterwards are ignored (the host is shutting down).
    func stopAccepting() { accepting.withLock { $0 = false } }

    /// Reads `fd` until end of input (or an error, or the client is being closed). A line
    /// longer than the configured limit is answered with `-32600` (with the line's id when its
    /// first `--max-line-bytes` hold one) and skipped up to its newline, so the channel stays in
    /// sync; it is never held whole. Before each read it waits while the client is over its
    /// bounds (`ChannelClient.waitForRoom`); after a long line the buffer shrinks back.
    func serve(fd: Int32) {
        let limit = runtime.configuration.maxLineBytes
        let initialCapacity = min(readCapacity, limit + 1)
        var capacity = initialCapacity
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var start = 0  // first unconsumed byte
        var end = 0  // end of valid data
        var scanned = 0  // bytes from `start` already searched for a newline
        var discarding = false

        while true {
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
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                // End of input: a last line without a newline still counts (not when the host
                // ended the connection: what it holds then is cut short).
                if !discarding && end > start && !client.isClosing {
                    let last = UnsafeBufferPointer(start: buffer + start, count: end - start)
                    accepting.withLock { accepting in if accepting { dispatch(last) } }
                }
                postRouted()
                return
            }
            end += count
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
            postRouted()
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
        }
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
                client.callStarted()
                methods.dispatch(request.method, params: params.map(Array.init), id: id.map(Array.init), reply: reply)
                return
            }
            // While a load is in progress, a call to a module not known yet waits for it.
            if runtime.loads.park(request.method, reply: reply, id: id, params: params) { return }
            switch runtime.route(request.method) {
            case .success(let target):
                let call = Call(method: target.method, slot: target.slot, reply: reply, id: id, params: params,
                                deadline: runtime.defaultDeadline())
                client.callStarted()
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
