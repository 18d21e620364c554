import ModHostJSON
import ModuleSupport

/// One results entry: a task that reached a terminal state (stored under `result/<cursor>`).
public struct ResultEntry: Codable, Sendable, Equatable {
    /// Monotonic: 1, 2, 3 … never reused, never reset (across restarts and swaps).
    public var cursor: Int64
    public var taskId: String
    public var status: TaskStatus
    public var result: JSONValue?
    public var error: TaskError?
    public var attempts: Int
    /// The last attempt's run time (0 for a task canceled before it ran).
    public var durationMs: Int64
    public var completedAt: Int64
    /// The cron job whose run this was.
    public var job: String?
}

/// `task.results`' answer: the entries after the position read from, and the cursor to read
/// after next time (the last entry's, or the position itself when there was none).
public struct ResultsAnswer: Codable, Sendable, Equatable {
    public var entries: [ResultEntry]
    public var cursor: Int64
}

/// The results log: entries in cursor order, named consumers' positions, long polls waiting
/// for an entry, and compaction.
///
/// Compaction (MODULES.md): an entry is dropped only once every named consumer is past it and
/// more than `keep` (100) entries exist; the newest `keep` always stay, for readers by `after`.
public struct ResultLog: Sendable {
    /// A parked `task.results` with `waitMs`.
    struct Waiter: Sendable {
        var call: PendingCallID
        var consumer: String?
        var after: Int64?
        var limit: Int
        var until: Int64
    }

    var entries: [ResultEntry] = []
    /// The cursor the next entry gets.
    var nextCursor: Int64 = 1
    /// Consumer → the cursor of the last entry it read.
    var consumers: [String: Int64] = [:]
    var waiters: [Waiter] = []
    let keep: Int

    public init(keep: Int = 100) {
        self.keep = keep
    }

    public var count: Int { entries.count }
    public var latestCursor: Int64 { nextCursor - 1 }

    /// The entries after `position`, at most `limit`.
    func entries(after position: Int64, limit: Int) -> [ResultEntry] {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].cursor <= position { low = mid + 1 } else { high = mid }
        }
        return Array(entries[low..<min(entries.count, low + limit)])
    }

    /// Where a read starts: `after`, else the consumer's position, else the beginning.
    func position(consumer: String?, after: Int64?) -> Int64 {
        after ?? consumer.flatMap { consumers[$0] } ?? 0
    }

    /// Appends an entry with the next cursor; returns it.
    mutating func append(_ make: (Int64) -> ResultEntry) -> ResultEntry {
        let entry = make(nextCursor)
        nextCursor += 1
        entries.append(entry)
        return entry
    }

    /// Adds a restored entry (any order; `sortRestored` puts them in order).
    mutating func restore(_ entry: ResultEntry) {
        entries.append(entry)
        nextCursor = max(nextCursor, entry.cursor + 1)
    }

    mutating func sortRestored() {
        entries.sort { $0.cursor < $1.cursor }
    }

    /// The entries compaction drops now: the oldest, while more than `keep` exist and every
    /// named consumer is past them.
    mutating func compact() -> [ResultEntry] {
        guard entries.count > keep else { return [] }
        let slowest = consumers.values.min() ?? .max
        var drop = 0
        while entries.count - drop > keep, entries[drop].cursor <= slowest { drop += 1 }
        guard drop > 0 else { return [] }
        let dropped = Array(entries[..<drop])
        entries.removeFirst(drop)
        return dropped
    }

    /// The earliest time a waiter gives up.
    var nextWaiterDeadline: Int64? { waiters.map(\.until).min() }
}
