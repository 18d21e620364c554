/// Store records found stale at start and not deleted yet, deleted in batches between calls.
///
/// A record the module writes again meanwhile is taken off the list (`rewritten`): its new
/// value must stay. Deleting it again later, when the module deletes it itself, is harmless.
struct StaleRecords {
    /// In the order found; keys no longer waiting are skipped when their turn comes.
    private var order: [String] = []
    private var waiting: Set<String> = []

    var isEmpty: Bool { waiting.isEmpty }
    var count: Int { waiting.count }

    mutating func add(_ key: String) {
        if waiting.insert(key).inserted { order.append(key) }
    }

    mutating func rewritten(_ key: String) {
        waiting.remove(key)
        if waiting.isEmpty { order = [] }
    }

    /// Takes up to `limit` keys still waiting, the last found first.
    mutating func nextBatch(_ limit: Int) -> [String] {
        var batch: [String] = []
        while batch.count < limit, let key = order.popLast() {
            if waiting.remove(key) != nil { batch.append(key) }
        }
        return batch
    }

    /// Forgets them all (a hot swap exported the state: the next start finds them again).
    mutating func removeAll() {
        order = []
        waiting = []
    }
}
