import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A module instance as the C entry points see it: the object behind the opaque `void *`.
///
/// Retained once (`Unmanaged.passRetained`) when `init` returns it; released by `destroy`.
/// Subclassed by `Instance<P>`; the entry points cannot be generic, so they dispatch here.
class AnyInstance {
    let core: HostCore
    let tasks = TaskTracker()

    init(core: HostCore) {
        self.core = core
    }

    func start() throws {}
    func stop() {}
    func handle(_ call: OpaquePointer, method: UnsafePointer<CChar>, length: Int,
                params: UnsafeRawBufferPointer) -> Int32 {
        MH_ERROR
    }
    /// An event: `data` is borrowed for the call (`"null"` when the event has none).
    func onEvent(topic: String, data: UnsafeRawBufferPointer) {}
    func exportState() throws -> Data { Data() }
    func importState(_ state: Data, from version: String) throws {}

    /// Called by `destroy` before the last release: no host calls from here on.
    func close() {
        tasks.cancelAll()
        core.close()
    }
}
