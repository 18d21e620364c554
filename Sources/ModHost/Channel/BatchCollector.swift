import Synchronization

/// Gathers the responses of one batch and writes them as a single array line once all are in
/// (JSON-RPC 2.0 section 6). A batch of notifications only writes nothing.
final class BatchCollector: Sendable {
    private struct State {
        var responses: [[UInt8]] = []
        var remaining: Int
    }
    private let state: Mutex<State>
    /// The client that sent the batch.
    let client: ChannelClient

    /// - Parameter expected: how many responses the batch will produce (its non-notifications).
    init(expected: Int, client: ChannelClient) {
        state = Mutex(State(remaining: expected))
        self.client = client
    }

    func add(_ response: [UInt8]) {
        let complete: [[UInt8]]? = state.withLock { state in
            state.responses.append(response)
            state.remaining -= 1
            return state.remaining == 0 ? state.responses : nil
        }
        guard let complete else { return }
        client.output.writeLine { out in
            out.append(UInt8(ascii: "["))
            for (index, response) in complete.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: response)
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}
