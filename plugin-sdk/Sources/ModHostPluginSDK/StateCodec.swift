#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Exports and imports a `StatefulPlugin`'s state in the SDK's envelope,
/// `{"schema":N,"state":…}`.
struct StateCodec<P: Plugin>: Sendable {
    /// The envelope to hand to the next version.
    let export: @Sendable (P, HostCore) throws -> Data
    /// Reads an envelope written by version `from` (or bare JSON: schema 0) into the instance.
    let `import`: @Sendable (P, Data, _ from: String, HostCore) throws -> Void

    /// The codec for `P` if it is a `StatefulPlugin`, else `nil`.
    static func forPlugin(_ type: P.Type) -> StateCodec<P>? {
        guard let stateful = type as? any StatefulPlugin.Type else { return nil }
        return make(stateful) as? StateCodec<P>
    }

    private static func make<S: StatefulPlugin>(_ type: S.Type) -> Any {
        StateCodec<S>(
            export: { plugin, core in
                let state = try core.encoder.encode(plugin.exportState())
                return Data("{\"schema\":\(S.stateSchemaVersion),\"state\":".utf8) + state + Data("}".utf8)
            },
            import: { plugin, envelope, version, core in
                let (schema, json) = unwrap(envelope)
                let state: S.State
                do {
                    if schema == S.stateSchemaVersion {
                        state = try core.decoder.decode(S.State.self, from: json)
                    } else {
                        state = try S.migrate(RawJSON(json), fromSchema: schema)
                    }
                } catch let error as DecodingError {
                    let reason = DecodingFailure.message(error)
                    throw PluginError.failed(
                        "cannot import state of schema \(schema) from version \(version) "
                            + "(this version reads schema \(S.stateSchemaVersion)): \(reason)")
                }
                try plugin.importState(state, from: version)
            })
    }

    /// The schema and state JSON of an envelope; bare JSON is schema 0.
    private static func unwrap(_ envelope: Data) -> (schema: Int, state: Data) {
        envelope.withUnsafeBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            guard let members = JSONMembers.ranges(bytes), let schemaRange = members["schema"], let stateRange = members["state"],
                let schema = Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[schemaRange]), as: UTF8.self))
            else { return (0, envelope) }
            return (schema, Data(UnsafeBufferPointer(rebasing: bytes[stateRange])))
        }
    }
}
