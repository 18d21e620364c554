/// The persistent, per-module key-value store behind `store_get/put/delete/list`.
///
/// Keys and values are bytes; every operation is scoped to one module id, so modules never see
/// each other's entries. A write is durable once the call returns: a killed host finds it on the
/// next start. Implementations are safe to call from any thread.
public protocol ModuleStore: Sendable {
    func get(module: String, key: [UInt8]) throws -> [UInt8]?
    func put(module: String, key: [UInt8], value: [UInt8]) throws
    func delete(module: String, key: [UInt8]) throws
    /// Entries whose key starts with `prefix`, in key (byte) order.
    func list(module: String, prefix: [UInt8]) throws -> [([UInt8], [UInt8])]
    func close()
}
