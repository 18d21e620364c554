/// The queue's tasks and the indexes over them: pending in run order (due time, then
/// submission), running, idempotency keys, running per group. The state changes themselves
/// are `TaskEngine`'s (QueueEngine.swift); this keeps the indexes in step.
public struct QueueBook: Sendable {
    /// How many tasks run at once: `concurrency` in all, and at most `groups[g]` of group `g`
    /// (a group not named has only the overall limit).
    public struct Limits: Sendable, Equatable {
        public var concurrency: Int
        public var groups: [String: Int]

        public init(concurrency: Int = 3, groups: [String: Int] = [:]) {
            self.concurrency = concurrency
            self.groups = groups
        }
    }

    struct PendingRef: Comparable, Sendable {
        var dueAt: Int64
        var seq: Int64
        var id: String

        static func < (a: PendingRef, b: PendingRef) -> Bool {
            (a.dueAt, a.seq) < (b.dueAt, b.seq)
        }
    }

    /// Every task known: pending, running, and terminal ones until their results entry is compacted.
    var tasks: [String: QueuedTask] = [:]
    /// Pending tasks, in the order they may run.
    var pending = PendingOrder()
    var running: Set<String> = []
    var runningByGroup: [String: Int] = [:]
    /// Key → the pending or running task holding it.
    var keys: [String: String] = [:]
    /// The next task's sequence number (its id is `t<seq>`).
    var nextSeq: Int64 = 1

    public init() {}

    public var count: Int { tasks.count }
    public var pendingCount: Int { pending.count }
    public var runningCount: Int { running.count }

    public subscript(id: String) -> QueuedTask? { tasks[id] }

    /// Adds or replaces `task`, indexing it by its status.
    mutating func put(_ task: QueuedTask) {
        if let old = tasks[task.id] { unindex(old) }
        tasks[task.id] = task
        nextSeq = max(nextSeq, task.seq + 1)
        switch task.status {
        case .pending:
            pending.insert(PendingRef(dueAt: task.dueAt, seq: task.seq, id: task.id))
        case .running:
            running.insert(task.id)
            if let group = task.group { runningByGroup[group, default: 0] += 1 }
        case .succeeded, .failed, .canceled:
            break
        }
        if !task.status.isTerminal, let key = task.key { keys[key] = task.id }
    }

    /// Forgets `id` altogether (its results entry was compacted).
    mutating func remove(_ id: String) {
        guard let task = tasks.removeValue(forKey: id) else { return }
        unindex(task)
    }

    private mutating func unindex(_ task: QueuedTask) {
        switch task.status {
        case .pending:
            pending.remove(PendingRef(dueAt: task.dueAt, seq: task.seq, id: task.id))
        case .running:
            running.remove(task.id)
            if let group = task.group, let count = runningByGroup[group] {
                runningByGroup[group] = count > 1 ? count - 1 : nil
            }
        case .succeeded, .failed, .canceled:
            break
        }
        if let key = task.key, keys[key] == task.id { keys[key] = nil }
    }

    /// Whether one more task of `group` may start now.
    func hasRoom(for group: String?, _ limits: Limits) -> Bool {
        guard running.count < limits.concurrency else { return false }
        guard let group, let limit = limits.groups[group] else { return true }
        return runningByGroup[group, default: 0] < limit
    }

    /// The first pending task that is due at `nowMs` and has room to start.
    func nextStartable(at nowMs: Int64, _ limits: Limits) -> String? {
        guard running.count < limits.concurrency else { return nil }
        for ref in pending {
            guard ref.dueAt <= nowMs else { return nil }
            if hasRoom(for: tasks[ref.id]?.group, limits) { return ref.id }
        }
        return nil
    }

    /// When the next pending task that could start now (room permitting) comes due: a wake-up.
    /// Nil when no task has room: a task ending frees a slot and starts the next then.
    func nextDue(_ limits: Limits) -> Int64? {
        guard running.count < limits.concurrency else { return nil }
        for ref in pending where hasRoom(for: tasks[ref.id]?.group, limits) { return ref.dueAt }
        return nil
    }

    /// The earliest deadline of a running attempt.
    var nextDeadline: Int64? {
        running.compactMap { tasks[$0]?.deadline }.min()
    }

    /// The running tasks whose attempt is past its deadline at `nowMs`.
    func overdue(at nowMs: Int64) -> [String] {
        running.filter { (tasks[$0]?.deadline ?? .max) <= nowMs }.sorted()
    }
}

/// Pending tasks sorted by (due time, submission): a sorted array read from a moving head, so
/// taking the first (the common case: a queue drained in order) and appending a task due now
/// (it sorts last) are constant time; a cancel or a task skipped for its group moves the rest.
struct PendingOrder: Sendable, Sequence {
    private var refs: [QueueBook.PendingRef] = []
    private var head = 0

    var count: Int { refs.count - head }

    func makeIterator() -> ArraySlice<QueueBook.PendingRef>.Iterator { refs[head...].makeIterator() }

    /// The first index at or after `head` whose ref is not before `ref`.
    private func index(of ref: QueueBook.PendingRef) -> Int {
        var low = head
        var high = refs.count
        while low < high {
            let mid = (low + high) / 2
            if refs[mid] < ref { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func insert(_ ref: QueueBook.PendingRef) {
        if let last = refs.last, head < refs.count, !(ref < last) {
            refs.append(ref)
        } else {
            refs.insert(ref, at: index(of: ref))
        }
    }

    mutating func remove(_ ref: QueueBook.PendingRef) {
        let at = index(of: ref)
        guard at < refs.count, refs[at].id == ref.id else { return }
        if at == head {
            head += 1
            if head == refs.count {
                refs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024, head * 2 > refs.count {
                refs.removeFirst(head)
                head = 0
            }
        } else {
            refs.remove(at: at)
        }
    }
}
