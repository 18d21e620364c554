import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What every copy of one instance's `PluginHost` shares: the table, the gate, timers and replies.
final class HostCore: Sendable {
    let table: HostTable
    let moduleID: String
    let serverID: String
    let dataDirectory: String
    /// Whether the host made this instance a shadow (`MH_INIT_SHADOW`; false on a 1.1 host).
    let isShadow: Bool
    let gate = HostGate()
    let timers = TimerRegistry()
    let replies = ReplyRegistry()
    /// The instance's coders, for params, results, events and the store: one each, reused
    /// for every call (both are thread-safe). Decoding goes through the JSON toolkit.
    let encoder = JSONEncoder()
    let decoder = JSONValueDecoder()

    init(table: HostTable, moduleID: String, serverID: String, dataDirectory: String, isShadow: Bool = false) {
        self.table = table
        self.moduleID = moduleID
        self.serverID = serverID
        self.dataDirectory = dataDirectory
        self.isShadow = isShadow
    }

    deinit {
        table.release()
    }

    /// Runs `body` with the host table unless the instance was destroyed; then `closed`.
    func withTable<R>(closed: R, _ body: (UnsafePointer<mh_host_api>, OpaquePointer) throws -> R) rethrows -> R {
        guard gate.enter() else { return closed }
        defer { gate.leave() }
        return try body(table.api, table.context)
    }

    /// Like `withTable`, but throws once the instance was destroyed.
    func withOpenTable<R>(_ operation: String,
                          _ body: (UnsafePointer<mh_host_api>, OpaquePointer) throws -> R) throws -> R {
        guard gate.enter() else { throw PluginError.internalError("\(operation): the module instance was destroyed") }
        defer { gate.leave() }
        return try body(table.api, table.context)
    }

    /// The instance stopped: the host has cancelled its timers.
    func stopped() {
        timers.removeAll()
    }

    /// The instance is being destroyed: no more host calls, outstanding replies fail.
    func close() {
        gate.close()
        timers.removeAll()
        replies.failAll(PluginError.internalError("the module instance was destroyed before the reply arrived"))
    }
}
