import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The module's persistent key-value store, namespaced per module id and durable across
/// restarts and hot swaps: a `put` has reached disk when it returns.
///
/// Values are bytes; `String` and `Codable` (JSON) helpers sit on top. Every method may be
/// called from any thread and throws `PluginError` when the host reports a failure.
///
///     try host.store.put("visits", encoding: visits)
///     let visits = try host.store.get("visits", decoding: [Visit].self) ?? []
public struct Store: Sendable {
    let core: HostCore

    /// The bytes stored under `key`, or `nil`.
    public func get(_ key: String) throws -> Data? {
        var value: Data?
        let status = try withUnsafeMutablePointer(to: &value) { slot in
            try core.withOpenTable("store get \(key)") { api, context in
                key.withCBytes { key, keyLength in
                    api.pointee.store_get?(context, key, keyLength, { user, _, _, value, valueLength in
                        user?.assumingMemoryBound(to: Data?.self).pointee = Data(cBytes: value, count: valueLength)
                    }, slot) ?? MH_ERROR
                }
            }
        }
        guard status >= 0 else { throw PluginError.internalError("store get \(key): failed in the host") }
        return status == 1 ? value : nil
    }

    /// The UTF-8 text stored under `key`, or `nil`.
    public func getString(_ key: String) throws -> String? {
        try get(key).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The JSON stored under `key` decoded as `type`, or `nil` when absent.
    public func get<T: Decodable>(_ key: String, decoding type: T.Type) throws -> T? {
        guard let data = try get(key) else { return nil }
        return try core.decoder.decode(type, from: data)
    }

    /// Stores `value` under `key`, replacing any previous value.
    public func put(_ key: String, _ value: Data) throws {
        let status = try core.withOpenTable("store put \(key)") { api, context in
            key.withCBytes { key, keyLength in
                value.withCBytes { api.pointee.store_put?(context, key, keyLength, $0, $1) ?? MH_ERROR }
            }
        }
        guard status == MH_OK else { throw PluginError.internalError("store put \(key): failed in the host") }
    }

    /// Stores `value` as UTF-8 text under `key`.
    public func put(_ key: String, _ value: String) throws {
        try put(key, Data(value.utf8))
    }

    /// Stores `value` encoded as JSON under `key`.
    public func put(_ key: String, encoding value: some Encodable) throws {
        try put(key, core.encoder.encode(value))
    }

    /// Removes `key` (not an error if absent).
    public func delete(_ key: String) throws {
        let status = try core.withOpenTable("store delete \(key)") { api, context in
            key.withCBytes { api.pointee.store_delete?(context, $0, $1) ?? MH_ERROR }
        }
        guard status == MH_OK else { throw PluginError.internalError("store delete \(key): failed in the host") }
    }

    /// Every entry whose key starts with `prefix`, in key order.
    public func list(prefix: String = "") throws -> [(key: String, value: Data)] {
        var entries: [(key: String, value: Data)] = []
        let status = try withUnsafeMutablePointer(to: &entries) { list in
            try core.withOpenTable("store list \(prefix)") { api, context in
                prefix.withCBytes { prefix, prefixLength in
                    api.pointee.store_list?(context, prefix, prefixLength, { user, key, keyLength, value, valueLength in
                        user?.assumingMemoryBound(to: [(key: String, value: Data)].self).pointee.append(
                            (String(cBytes: key, count: keyLength), Data(cBytes: value, count: valueLength)))
                    }, list) ?? MH_ERROR
                }
            }
        }
        guard status >= 0 else { throw PluginError.internalError("store list \(prefix): failed in the host") }
        return entries
    }
}
