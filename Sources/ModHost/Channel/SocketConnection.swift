import Foundation
import Synchronization

/// One accepted socket connection: a `ChannelClient` (its output, bounds, events) read by a
/// `ControlChannel` on a thread of its own, the same reader and writer as stdio.
///
/// The descriptor is closed only after both its reader and its writer thread are done with it,
/// so a reply that comes late (a module answering after the client left) is dropped by the
/// stopped writer and can never reach the next connection the kernel gives the same number.
/// `disconnect` ends a connection from any thread by shutting the socket down (that wakes a
/// read or write blocked on it); the reader thread then tears it down.
///
/// End of input is not the end of a client: one that shut down only its sending side (socat,
/// `nc -N`) still reads, so its replies in flight are written before it is closed. One that
/// closed altogether (a hang-up) gets nothing more: its pending replies are dropped.
final class SocketConnection: Sendable {
    let client: ChannelClient
    let channel: ControlChannel
    private let fd: Int32
    /// False once the descriptor is closed: `disconnect` must not touch the number then.
    private let open = Mutex<Bool>(true)
    /// When the client's output went over its bound (and stayed there), for the grace.
    private let overSince = Mutex<ContinuousClock.Instant?>(nil)
    private let ended = DispatchSemaphore(value: 0)

    init(fd: Int32, client: ChannelClient, channel: ControlChannel) {
        self.fd = fd
        self.client = client
        self.channel = channel
    }

    /// Reads the connection on a new thread until it ends, then tears it down and calls `onEnd`
    /// (with the descriptor already closed).
    func start(onEnd: @escaping @Sendable (SocketConnection) -> Void) {
        let thread = Thread { [self] in
            CrashReport.prepareThread()
            channel.serve(fd: fd)
            if !client.isClosing && !hungUp() { waitForReplies() }
            tearDown()
            onEnd(self)
            ended.signal()
        }
        thread.name = "modhost-client-\(client.id)"
        thread.start()
    }

    /// Ends the connection: its input is no longer read, a blocked write fails, and the
    /// reader thread tears it down. Any thread; returns false when it was already ending.
    @discardableResult
    func disconnect() -> Bool {
        let first = !client.isClosing
        client.markClosing()
        client.output.discard()
        open.withLock { open in if open { _ = shutdown(fd, Int32(SHUT_RDWR)) } }
        return first
    }

    /// At shutdown: waits up to `deadline` for what is queued for the client to be written,
    /// then ends the connection and waits for its teardown.
    func close(until deadline: ContinuousClock.Instant) {
        client.markClosing()
        client.output.close(timeout: max(deadline - ContinuousClock.now, .zero))
        disconnect()
        ended.wait()
    }

    /// Whether the output has stayed over its bound for longer than `grace`, as of `now`.
    func isStuck(now: ContinuousClock.Instant, grace: Duration) -> Bool {
        overSince.withLock { since in
            guard client.isOverOutputBound else {
                since = nil
                return false
            }
            guard let start = since else {
                since = now
                return false
            }
            return now - start > grace
        }
    }

    /// After end of input: waits while the client's calls are still in the host and it is still
    /// there to read their replies.
    private func waitForReplies() {
        var poller = pollfd(fd: fd, events: 0, revents: 0)
        while client.callsInFlight > 0 && !client.isClosing {
            poller.revents = 0
            if poll(&poller, 1, 50) > 0 && poller.revents & Int16(POLLHUP | POLLERR) != 0 { return }
        }
    }

    /// Whether the peer closed its side altogether (not only its sending half).
    private func hungUp() -> Bool {
        var poller = pollfd(fd: fd, events: 0, revents: 0)
        return poll(&poller, 1, 0) > 0 && poller.revents & Int16(POLLHUP | POLLERR) != 0
    }

    private func tearDown() {
        client.markClosing()
        if hungUp() { client.output.discard() }
        client.output.close(timeout: .seconds(1))
        _ = shutdown(fd, Int32(SHUT_RDWR))  // ends a write still blocked on a client that stopped reading
        client.output.waitUntilStopped()
        open.withLock { open in
            Glibc.close(fd)
            open = false
        }
    }
}
