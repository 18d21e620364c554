import Synchronization

/// The control channel's clients by id, for what a module may address one by (ABI 1.2:
/// `call_client` reports the id a call came from, `notify_client` sends to one) and for
/// `host.status`.
///
/// Ids are never reused while the host runs. The stdio client is 1; 0 is never a client (it
/// means "a module or the host" in `call_client`); socket connections get 2, 3, … as they are
/// accepted. A client is removed when it disconnects, so a notification for a client that left
/// finds nothing and its sender gets `MH_NO_CLIENT`. Every method may be called from any thread.
final class ClientTable: Sendable {
    /// The id of the client on stdin/stdout.
    static let stdioID: UInt64 = 1

    private let clients = Mutex<[UInt64: ChannelClient]>([:])
    private let lastID = Atomic<UInt64>(stdioID)

    /// A fresh id for a socket connection.
    func nextID() -> UInt64 {
        lastID.add(1, ordering: .relaxed).newValue
    }

    func add(_ client: ChannelClient) {
        clients.withLock { $0[client.id] = client }
    }

    func remove(_ id: UInt64) {
        _ = clients.withLock { $0.removeValue(forKey: id) }
    }

    /// The connected client with `id`, or nil.
    func client(_ id: UInt64) -> ChannelClient? {
        clients.withLock { $0[id] }
    }

    /// Every connected client, by id.
    var all: [ChannelClient] {
        clients.withLock { Array($0.values) }.sorted { $0.id < $1.id }
    }
}
