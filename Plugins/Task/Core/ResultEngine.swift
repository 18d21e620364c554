import ModHostJSON
import ModHostSupport
import ModuleSupport

/// `task.results`: reading the results log by position or as a named consumer, long polls
/// (`waitMs`, on the host clock) answered as soon as an entry lands, and compaction.
extension TaskEngine {
    /// Answers `call` now with the entries after the reader's position, or, with `waitMs` and
    /// nothing to read, holds it until an entry lands (then answers at once) or `waitMs` passes
    /// on the host clock (then answers with no entries). Reading as `consumer` moves its stored
    /// position to the last entry read; `after` overrides the position it reads from.
    public mutating func results(_ request: ResultsRequest, call: PendingCallID, at nowMs: Int64,
                                 effects: inout TaskEffects) throws(ModuleFailure) {
        if let consumer = request.consumer {
            guard !consumer.isEmpty, consumer.utf8.count <= 64,
                consumer.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
            else {
                throw .invalidInput("consumer must be 1 to 64 letters, digits, '.', '_' or '-', got \(LogText.quote(consumer, limit: 80))")
            }
        }
        if let after = request.after, after < 0 { throw .invalidInput("after must be a cursor (0 or more), got \(after)") }
        let limit = request.limit ?? 100
        guard (1...1000).contains(limit) else { throw .invalidInput("limit must be 1 to 1000, got \(limit)") }
        if let wait = request.waitMs, !(0...30_000).contains(wait) {
            throw .invalidInput("waitMs must be 0 to 30000 (30 s; poll again for longer), got \(wait)")
        }
        let waiter = ResultLog.Waiter(call: call, consumer: request.consumer, after: request.after, limit: limit,
                                      until: nowMs &+ (request.waitMs ?? 0))
        if !answer(waiter, force: (request.waitMs ?? 0) == 0, effects: &effects) {
            results.waiters.append(waiter)
        }
    }

    /// Answers `waiter` if it has entries to read (or `force`): true when answered.
    private mutating func answer(_ waiter: ResultLog.Waiter, force: Bool, effects: inout TaskEffects) -> Bool {
        let position = results.position(consumer: waiter.consumer, after: waiter.after)
        let entries = results.entries(after: position, limit: waiter.limit)
        guard force || !entries.isEmpty else { return false }
        let cursor = entries.last?.cursor ?? min(max(position, 0), results.latestCursor)
        if let consumer = waiter.consumer, !entries.isEmpty || results.consumers[consumer] == nil || waiter.after != nil {
            results.consumers[consumer] = cursor
            effects.list.put(Self.consumerKey(consumer), encoding: cursor)
        }
        effects.list.reply(waiter.call, ResultsAnswer(entries: entries, cursor: cursor).json)
        if waiter.consumer != nil { compact(&effects) }
        return true
    }

    /// A new entry landed: every waiter with something to read now is answered.
    mutating func answerWaiters(at nowMs: Int64, effects: inout TaskEffects) {
        guard !results.waiters.isEmpty else { return }
        let waiting = results.waiters
        results.waiters = []
        for waiter in waiting where !answer(waiter, force: false, effects: &effects) {
            results.waiters.append(waiter)
        }
    }

    /// Waiters whose `waitMs` passed answer with no entries (the client polls again).
    mutating func expireWaiters(at nowMs: Int64, effects: inout TaskEffects) {
        guard results.waiters.contains(where: { $0.until <= nowMs }) else { return }
        let waiting = results.waiters
        results.waiters = []
        for waiter in waiting {
            if waiter.until <= nowMs {
                _ = answer(waiter, force: true, effects: &effects)
            } else {
                results.waiters.append(waiter)
            }
        }
    }

    /// Answers every waiter now, with what there is (none): at `stop`, so a hot swap's drain is
    /// not held up by long polls; the clients poll again and reach the new version.
    public mutating func releaseWaiters(effects: inout TaskEffects) {
        let waiting = results.waiters
        results.waiters = []
        for waiter in waiting { _ = answer(waiter, force: true, effects: &effects) }
    }

    /// Drops the entries compaction allows, with their tasks.
    ///
    /// The counters are stored here, before the records go: while every task and entry has its
    /// record, the restore finds the next number and cursor from them (`meta/queue` only
    /// covers the ones deleted), which saves two writes per task.
    mutating func compact(_ effects: inout TaskEffects) {
        let dropped = results.compact()
        guard !dropped.isEmpty else { return }
        storeMeta(&effects)
        for entry in dropped {
            effects.list.delete(Self.resultKey(entry.cursor))
            if let task = queue[entry.taskId], task.cursor == entry.cursor {
                queue.remove(entry.taskId)
                effects.list.delete(Self.taskKey(entry.taskId))
            }
        }
    }

    /// How many long polls wait (for tests and the log).
    public var waitingReaders: Int { results.waiters.count }

    /// `result/<cursor>`, zero-padded to 20 digits so key order is cursor order.
    static func resultKey(_ cursor: Int64) -> String {
        let digits = String(cursor)
        return "result/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func consumerKey(_ name: String) -> String { "consumer/\(name)" }
}
