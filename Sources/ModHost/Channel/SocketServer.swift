import Dispatch
import Foundation
import Logging
import ModHostJSON
import ModHostSupport
import Synchronization

/// The socket side of the control channel: the `--listen` sockets, their connections (at most
/// `--max-clients` at once), and the watch on clients that stopped reading.
///
/// Every connection is a client like stdio (`ChannelClient` + `ControlChannel`): its own ids,
/// batches, subscriptions and bounds. The host publishes `host.client_connected {clientId,
/// transport}` once a client is in the client table and `host.client_disconnected {clientId}`
/// once it is gone from it. A socket client whose output stays over its bound past
/// `--client-grace-ms` is disconnected with a warning; the stdio client never is.
final class SocketServer: @unchecked Sendable {
    private let runtime: HostRuntime
    private let methods: HostMethods
    private let listeners: [SocketListener]
    private let logger: Logger
    private let connections = Mutex<[UInt64: SocketConnection]>([:])
    /// Set at shutdown: connections accepted from then on are refused.
    private let stopping = Atomic<Bool>(false)
    private var watch: DispatchSourceTimer?

    /// Opens every listener (a failure closes the ones already open and throws).
    init(paths: [String], runtime: HostRuntime, methods: HostMethods, logger: Logger) throws {
        var listeners: [SocketListener] = []
        for path in paths {
            do {
                listeners.append(try SocketListener(path: path) { logger.notice("\($0)") })
            } catch {
                listeners.forEach { $0.close(started: false) }
                throw error
            }
        }
        self.listeners = listeners
        self.runtime = runtime
        self.methods = methods
        self.logger = logger
    }

    var paths: [String] { listeners.map(\.path) }

    /// Starts accepting, and the watch on stuck clients.
    func start() {
        for listener in listeners {
            let path = listener.path
            listener.start(logger: { [logger] in logger.error("\($0)") }) { [self] fd in accept(fd, path: path) }
        }
        let grace = runtime.configuration.clientGrace
        let period = min(max(grace / 4, .milliseconds(10)), .seconds(1))
        let timer = DispatchSource.makeTimerSource(queue: .global())
        let nanoseconds = Int(period.components.seconds) * 1_000_000_000 + Int(period.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { [self] in disconnectStuck(grace: grace) }
        timer.resume()
        watch = timer
    }

    /// Tells every client the host is shutting down, stops accepting and reading: lines read
    /// from now on are ignored. Replies already in the host still go out (`closeAll`).
    func stopAccepting() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        listeners.forEach { $0.close(started: true) }
        watch?.cancel()
        for connection in connections.withLock({ Array($0.values) }) { connection.channel.stopAccepting() }
    }

    /// Closes every connection once what is queued for it is written, or at `deadline`.
    func closeAll(until deadline: ContinuousClock.Instant) {
        let open = connections.withLock { Array($0.values) }
        for connection in open { connection.close(until: deadline) }
    }

    private func accept(_ fd: Int32, path: String) {
        let maximum = runtime.configuration.maxClients
        let admitted = connections.withLock { $0.count < maximum }
        guard admitted, !stopping.load(ordering: .sequentiallyConsistent) else {
            refuse(fd, why: admitted
                ? RPCError(code: RPCError.connectionRefusedCode, message: "The host is shutting down; connect to it again once it has restarted")
                : RPCError(code: RPCError.connectionRefusedCode, message:
                    "Too many clients: this host serves at most \(maximum) at once (--max-clients); try again once one disconnects, or restart the host with a higher --max-clients"))
            if !admitted { logger.warning("refused a connection on unix:\(LogText.quote(path, keep: .tail)): \(maximum) clients are connected (--max-clients)") }
            return
        }
        let id = runtime.clients.nextID()
        let box = Mutex<SocketConnection?>(nil)
        let client = ChannelClient(fd: fd, id: id, transport: .unix(path), connectedAtMs: runtime.clock.nowMs, logger: logger) {
            box.withLock { $0 }?.disconnect()  // the peer is gone: a write failed
        }
        let connection = SocketConnection(
            fd: fd, client: client, channel: ControlChannel(runtime: runtime, methods: methods, client: client, readCapacity: 1 << 16))
        box.withLock { $0 = connection }
        connections.withLock { $0[id] = connection }
        runtime.clients.add(client)
        logger.info("client \(id) connected on unix:\(LogText.quote(path, keep: .tail))")
        var data = JSONObject()
        data.add("clientId", Int(id))
        data.add("transport", "unix")
        runtime.events.publish(topic: "host.client_connected", data: data.result)
        connection.start { [self] connection in ended(connection) }
    }

    /// After a connection's teardown (descriptor closed, writer stopped).
    private func ended(_ connection: SocketConnection) {
        let id = connection.client.id
        // The place is free before the client leaves the listing (`--max-clients` counts
        // connections): one that sees it gone can connect again at once.
        _ = connections.withLock { $0.removeValue(forKey: id) }
        runtime.clients.remove(id)
        runtime.events.unsubscribeAll(connection.client)
        logger.info("client \(id) disconnected")
        var data = JSONObject()
        data.add("clientId", Int(id))
        runtime.events.publish(topic: "host.client_disconnected", data: data.result)
    }

    /// One error line (id null), then the connection is closed: the client reads why.
    private func refuse(_ fd: Int32, why error: RPCError) {
        var line = RPCResponse.error(id: nil, error)
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        // Half-close first, so the line is read before the end of the connection.
        _ = shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }

    private func disconnectStuck(grace: Duration) {
        let now = ContinuousClock.now
        for connection in connections.withLock({ Array($0.values) }) where connection.isStuck(now: now, grace: grace) {
            guard connection.disconnect() else { continue }
            let client = connection.client
            logger.warning(
                "disconnected client \(client.id): more than \(client.limits.outputHighWater >> 20) MiB of its output stayed unread for over \(runtime.configuration.clientGraceMilliseconds) ms (--client-grace-ms); its pending replies are dropped")
        }
    }
}
