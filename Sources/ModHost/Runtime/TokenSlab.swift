/// Values addressed by the tokens plugins hold (`mh_call *`, `mh_context *`): a slot index and a
/// generation, never a pointer. A token whose value was removed, or whose slot was reused since,
/// finds nothing, so a plugin holding a stale token gets `MH_EXPIRED` instead of touching freed
/// memory. Not thread-safe: its tables keep it behind a lock.
struct TokenSlab<Element> {
    private struct Entry {
        var value: Element?
        var generation: UInt32 = 0
    }
    private var entries: [Entry] = []
    private var free: [Int] = []

    /// Stores `value` and returns its token (never 0).
    mutating func insert(_ value: Element) -> UInt64 {
        let index: Int
        if let reused = free.popLast() {
            index = reused
        } else {
            index = entries.count
            entries.append(Entry())
        }
        entries[index].value = value
        entries[index].generation &+= 1
        return UInt64(entries[index].generation) << 32 | UInt64(index + 1)
    }

    /// The value `token` names, if it is still there.
    func value(_ token: UInt64) -> Element? {
        guard let index = index(of: token) else { return nil }
        return entries[index].value
    }

    /// Removes and returns the value `token` names, if it is still there.
    mutating func remove(_ token: UInt64) -> Element? {
        guard let index = index(of: token), let value = entries[index].value else { return nil }
        entries[index].value = nil
        free.append(index)
        return value
    }

    /// Removes and returns every value `shouldRemove` accepts.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) -> [Element] {
        var removed: [Element] = []
        for index in entries.indices {
            guard let value = entries[index].value, shouldRemove(value) else { continue }
            removed.append(value)
            entries[index].value = nil
            free.append(index)
        }
        return removed
    }

    /// How many values are stored.
    var count: Int { entries.count - free.count }

    private func index(of token: UInt64) -> Int? {
        let index = Int(truncatingIfNeeded: token & 0xFFFF_FFFF) - 1
        guard index >= 0, index < entries.count, entries[index].generation == UInt32(truncatingIfNeeded: token >> 32) else { return nil }
        return index
    }
}
