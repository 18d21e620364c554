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
    /// Keys a read could not read, in the order found, and keys some read did read: a key
    /// under two prefixes read as two types (`alarm/` and `alarm/note/`) is unreadable only
    /// when neither read it.
    private var failed: [String] = []
    private var readKeys: Set<String> = []

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
                readKeys.insert(key)
            } else {
                failed.append(key)
            }
        }
        return values
    }

    /// The records no read could read, each once: deleted at start like stale ones.
    var unreadableKeys: [String] {
        var seen: Set<String> = []
        return failed.filter { !readKeys.contains($0) && seen.insert($0).inserted }
    }

    func logUnreadable() {
        let unreadable = unreadableKeys
        for key in unreadable.prefix(10) { host.log(.warning, "dropping unreadable record \(LogText.quote(key))") }
        if unreadable.count > 10 { host.log(.warning, "dropping \(unreadable.count - 10) more unreadable records") }
    }
}
