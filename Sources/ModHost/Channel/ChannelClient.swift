import Foundation
import Logging
import Synchronization

/// One client of the control channel (stdio, or one connection to a `--listen` socket): where
/// its replies and events go, and the bounds that keep a client that sends without reading from
/// growing the host (DESIGN.md, "Several clients", last point).
///
/// - **Input**: the reader stops reading the client while more than `maxCallsInFlight` of its
///   calls are in the host (queued, running or pending) or more than `outputHighWater` bytes of
///   its output are unwritten, and reads on once both are back under `resumeCallsInFlight` and
///   `outputLowWater`. A client that stops reading therefore stops its own input (the kernel's
///   pipe or socket buffer fills and its writes block), not the host's memory.
/// - **Replies** are never dropped and never block the module that produces them: what can wait
///   for a client that does not read is the replies to the calls it had in the host when its
///   input stopped (at most `maxCallsInFlight`, each up to `--max-result-bytes`).
/// - **Events** for it are dropped and counted while more than `eventDropBytes` bytes of its
///   output are unwritten, so a publisher never waits for a slow client.
///
/// Threads: `waitForRoom` and `callStarted` run on the client's reader thread only;
/// `callFinished` and `writeEvent` on any thread. The two call counters live on cache lines of
/// their own: the reader's is written by the reader alone (a plain store), the other by the
/// threads that finish calls (for one busy module, its one worker), so the reader and the
/// modules never write the same line.
final class ChannelClient: Sendable {
    struct Limits: Sendable {
        var maxCallsInFlight = 8192
        var resumeCallsInFlight = 4096
        var outputHighWater = 4 << 20
        var outputLowWater = 1 << 20
        var eventDropBytes = 16 << 20
    }

    /// How a client is connected, as `host.status` lists it.
    enum Transport: Sendable, Equatable {
        case stdio
        /// A connection accepted on the Unix socket at this path.
        case unix(String)
    }

    /// The client's id (`ClientTable`): what `call_client` reports and `notify_client` takes.
    let id: UInt64
    let transport: Transport
    /// When it connected, on the host clock (`host.status`).
    let connectedAtMs: Int64
    let output: OutputWriter
    let limits: Limits
    private let logger: Logger
    /// Calls read from the client; written by its reader thread only.
    private let started = PaddedCounter()
    /// Calls of the client answered; written by whichever threads finish them.
    private let finished = PaddedCounter()
    private let dropped = Atomic<Int>(0)
    /// True while events are being dropped (one warning per episode).
    private let dropping = Atomic<Bool>(false)
    private let gate: ReaderGate

    /// - Parameter onBroken: called once when the client's end of the output goes away.
    init(fd: Int32, id: UInt64 = ClientTable.stdioID, transport: Transport = .stdio, connectedAtMs: Int64 = 0,
         limits: Limits = Limits(), logger: Logger, onBroken: @escaping @Sendable () -> Void) {
        let gate = ReaderGate()
        self.id = id
        self.transport = transport
        self.connectedAtMs = connectedAtMs
        self.gate = gate
        self.limits = limits
        self.logger = logger
        output = OutputWriter(fd: fd, lowWater: limits.outputLowWater, onBroken: onBroken, onDrained: { if gate.isWaiting { gate.wake() } })
    }

    /// Events dropped for this client so far.
    var droppedEvents: Int { dropped.load(ordering: .relaxed) }

    /// Calls read from the client and not answered yet.
    var callsInFlight: Int {
        started.value.load(ordering: .sequentiallyConsistent) - finished.value.load(ordering: .sequentiallyConsistent)
    }

    /// A call (request or notification, module or host method) was read from the client.
    /// Reader thread only: a plain store, no read-modify-write.
    @inline(__always)
    func callStarted() {
        started.value.store(started.value.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// A call of the client was answered (or, for a notification, done).
    @inline(__always)
    func callFinished() {
        finished.value.add(1, ordering: .sequentiallyConsistent)
        if gate.isWaiting, callsInFlight <= limits.resumeCallsInFlight { gate.wake() }
    }

    /// Blocks the reader while the client is over its bounds (see the type's notes).
    func waitForRoom() {
        guard callsInFlight > limits.maxCallsInFlight || output.unwrittenBytes > limits.outputHighWater else { return }
        gate.wait {
            isClosing || (callsInFlight <= limits.resumeCallsInFlight && output.unwrittenBytes <= limits.outputLowWater)
        }
    }

    /// Whether its output is over the bound that stops its input (a socket client stuck there
    /// past the grace is disconnected: `SocketConnection`).
    var isOverOutputBound: Bool { output.unwrittenBytes > limits.outputHighWater }

    /// Set when the host is done with the client (disconnecting it, or shutting down): a reader
    /// parked in `waitForRoom` returns, so its thread can end.
    private let closing = Atomic<Bool>(false)
    var isClosing: Bool { closing.load(ordering: .sequentiallyConsistent) }

    func markClosing() {
        closing.store(true, ordering: .sequentiallyConsistent)
        gate.wake()
    }

    /// Writes an event notification unless the client's output is too far behind; then the
    /// event is dropped and counted.
    func writeEvent(_ body: (inout [UInt8]) -> Void) {
        guard output.unwrittenBytes <= limits.eventDropBytes else {
            let count = dropped.add(1, ordering: .relaxed).newValue
            if !dropping.exchange(true, ordering: .relaxed) {
                logger.warning("dropping events for client \(id): more than \(limits.eventDropBytes >> 20) MiB of its output is unread (\(count) dropped so far)")
            }
            return
        }
        if dropping.load(ordering: .relaxed), dropping.exchange(false, ordering: .relaxed) {
            logger.notice("delivering events to client \(id) again (\(dropped.load(ordering: .relaxed)) dropped so far)")
        }
        output.writeLine(body)
    }
}

/// An atomic counter alone on its cache line, so threads writing a neighbour never slow it.
private final class PaddedCounter: Sendable {
    let value = Atomic<Int>(0)
    private let padding: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
}

/// Parks the reader until a condition holds; other threads wake it after changing what the
/// condition reads, and it re-checks. Waking costs one atomic load while nobody waits.
private final class ReaderGate: @unchecked Sendable {
    private let condition = NSCondition()
    private let armed = Atomic<Bool>(false)

    /// Returns once `ready()` holds. `ready` is re-checked at each wake-up (and every 100 ms, as
    /// a safety net).
    func wait(until ready: () -> Bool) {
        condition.lock()
        armed.store(true, ordering: .sequentiallyConsistent)
        while !ready() {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
        armed.store(false, ordering: .sequentiallyConsistent)
        condition.unlock()
    }

    /// Whether the reader is parked (or about to be): only then is `wake` worth its lock.
    var isWaiting: Bool { armed.load(ordering: .sequentiallyConsistent) }

    func wake() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }
}
