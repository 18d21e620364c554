import Synchronization

/// The registry's entry for one module id. It outlives instances: its mailbox keeps the
/// module's queued calls in order while the instance behind it changes (hot swap).
final class ModuleSlot: Sendable {
    let id: String
    let mailbox: Mailbox
    /// Calls of this module handed to a plugin and not completed yet (kept by the call table).
    let openCalls = OpenCallCount()
    /// The largest result a call may be answered with (`--max-result-bytes`).
    let maxResultBytes: Int
    /// Read on every call routed and run, changed by swaps.
    private let current: ReadMostly<ModuleInstance?>
    /// The generation a swap replaced, stopped but kept resident for `modules.rollback`.
    private let previousInstance = Mutex<ModuleInstance?>(nil)
    /// A new version running beside the serving one, receiving mirrored calls.
    private let shadowBox = Mutex<Shadow?>(nil)
    private let hasShadow = Atomic<Bool>(false)
    /// A new version serving a share of the calls beside the current one.
    private let canaryBox = Mutex<Canary?>(nil)
    private let hasCanary = Atomic<Bool>(false)

    /// - Parameter deferrable: whether a thread running a call in place may run this module's
    ///   jobs after it (`DeferredRun`); a shadow's slot is not (it is not swept, and its work
    ///   must never land on the serving calls' threads).
    init(id: String, concurrent: Bool, maxResultBytes: Int, deferrable: Bool = true) {
        self.id = id
        self.maxResultBytes = maxResultBytes
        let box = SlotBox()
        mailbox = Mailbox(
            name: id, concurrent: concurrent, deferrable: deferrable,
            execute: { job in box.slot?.execute(job) },
            refuse: { job in
                switch job {
                case .call(let call): if call.claim() { call.finish(error: .moduleUnavailable(id, "it was unloaded")) }
                case .callback(_, .timer(let firing)): firing.done?()
                case .callback: break
                }
            })
        current = ReadMostly(nil)
        box.slot = self
    }

    var previous: ModuleInstance? { previousInstance.withLock { $0 } }

    /// Keeps `instance` for rollback and returns the one kept before, if any.
    func keepPrevious(_ instance: ModuleInstance?) -> ModuleInstance? {
        previousInstance.withLock { kept in
            let earlier = kept
            kept = instance
            return earlier
        }
    }

    func takePrevious() -> ModuleInstance? { keepPrevious(nil) }

    var shadow: Shadow? {
        get { hasShadow.load(ordering: .acquiring) ? shadowBox.withLock { $0 } : nil }
        set {
            shadowBox.withLock { $0 = newValue }
            hasShadow.store(newValue != nil, ordering: .releasing)
        }
    }

    var canary: Canary? {
        get { hasCanary.load(ordering: .acquiring) ? canaryBox.withLock { $0 } : nil }
        set {
            canaryBox.withLock { $0 = newValue }
            hasCanary.store(newValue != nil, ordering: .releasing)
        }
    }

    var instance: ModuleInstance? {
        get { current.read { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// Runs one job; called by the mailbox on a pool thread.
    private func execute(_ job: Job) {
        switch job {
        case .call(let call):
            guard call.claim() else { return }  // it timed out while queued
            guard let instance, instance.state == .running else {
                call.finish(error: .moduleUnavailable(id, "it is \(instance?.state.description ?? "not loaded")"))
                return
            }
            if let canary, canary.takes(call) {
                canary.run(call)
                return
            }
            shadow?.mirror(call)
            instance.run(call)
        case .callback(let context, let callback):
            context.run(callback)
        }
    }
}

/// Lets the mailbox's closure reach its slot without a retain cycle.
private final class SlotBox: @unchecked Sendable {
    weak var slot: ModuleSlot?
}
