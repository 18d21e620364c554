import ModHostPluginSDK
import ModHostSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The module's store records, read by key prefix at start (`EngineHost.start`).
///
///     let keys = try records.read("key/", as: KeyEntry.self, fast: KeyEntry.fromRecord)
///     let named = try records.readNamed("session/", as: Session.self)   // [(name, value)]
///
/// Each record is read with `fast` first when given (a hand-written reader for the shape the
/// module writes: nil when it is not that shape), else with the JSON toolkit's decoder. A record
/// neither can read is left out, named in the log (the first ten) and deleted like a stale one.
public final class StoredRecords {
    let host: PluginHost
    private let decoder = JSONValueDecoder()
    private var unreadable: [String] = []

    init(host: PluginHost) {
        self.host = host
    }

    /// The readable records under `prefix`, in key order.
    public func read<T: Decodable>(_ prefix: String, as type: T.Type,
                                   fast: (UnsafeRawBufferPointer) -> T? = { _ in nil }) throws -> [T] {
        try readNamed(prefix, as: type, fast: fast).map(\.value)
    }

    /// The readable records under `prefix` with their names (the key after the prefix).
    public func readNamed<T: Decodable>(_ prefix: String, as type: T.Type,
                                        fast: (UnsafeRawBufferPointer) -> T? = { _ in nil }) throws -> [(name: String, value: T)] {
        let records = try host.store.list(prefix: prefix)
        var values: [(name: String, value: T)] = []
        values.reserveCapacity(records.count)
        for (key, data) in records {
            let value = data.withUnsafeBytes { bytes in fast(bytes) ?? (try? decoder.decode(type, from: bytes)) }
            if let value {
                values.append((String(key.dropFirst(prefix.count)), value))
            } else {
                unreadable.append(key)
            }
        }
        return values
    }

    /// Deletes the unreadable records as stale ones: `budget` of them now, the rest with `stale`.
    func deleteUnreadable(budget: Int, stale: inout StaleRecords, store: Store) {
        for (index, key) in unreadable.enumerated() {
            if index < budget { try? store.delete(key) } else { stale.add(key) }
        }
    }

    func logUnreadable() {
        for key in unreadable.prefix(10) { host.log(.warning, "dropping unreadable record \(LogText.quote(key))") }
        if unreadable.count > 10 { host.log(.warning, "dropping \(unreadable.count - 10) more unreadable records") }
    }
}
