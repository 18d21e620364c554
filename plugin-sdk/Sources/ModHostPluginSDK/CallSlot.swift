#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The call a synchronous handler runs for, in a per-thread slot: what `CallInfo.current` reads
/// on the host's thread.
///
/// `handle` used to bind `CallInfo.current` as a task-local value around every handler, which
/// costs a heap allocation per call (about 77 ns) whether the handler reads it or not. A
/// pthread-specific slot costs two or three stores and loads; only a handler that reads
/// `CallInfo.current` builds a `CallInfo` from it. Async handlers get a task-local binding
/// instead, made once when their task starts (`CallContext.completeLater`).
enum CallSlot {
    /// What the slot points at: a value on the stack of `with`, valid while it runs.
    private struct Value {
        let call: OpaquePointer
        let core: Unmanaged<HostCore>
    }

    /// One key per loaded Swift image (images stay mapped for good). The process has 1024:
    /// past that, after about a thousand loads and swaps of Swift plugins, the slot falls back
    /// to the task-local binding, slower but correct.
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        return pthread_key_create(&key, nil) == 0 ? key : nil
    }()

    /// Runs `body` with `call` in this thread's slot (the previous value is put back after, so a
    /// nested `handle` on the same thread, should a test drive one, sees its own call).
    static func with<R>(_ call: OpaquePointer, _ core: HostCore, _ body: () -> R) -> R {
        guard let key = self.key else {
            return CallInfo.$task.withValue(CallInfo(call: PendingCall(call: call), core: core)) { body() }
        }
        var value = Value(call: call, core: Unmanaged.passUnretained(core))
        return withUnsafeMutablePointer(to: &value) { pointer in
            let previous = pthread_getspecific(key)
            pthread_setspecific(key, pointer)
            defer { pthread_setspecific(key, previous) }
            return body()
        }
    }

    /// The call in this thread's slot, if a synchronous handler is running on it.
    static var current: CallInfo? {
        guard let key, let raw = pthread_getspecific(key) else { return nil }
        let value = raw.assumingMemoryBound(to: Value.self).pointee
        return CallInfo(call: PendingCall(call: value.call), core: value.core.takeUnretainedValue())
    }
}
