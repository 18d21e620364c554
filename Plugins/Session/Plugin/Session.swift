// session: terminal sessions recorded in omnish's on-disk layout, read back as LLM context and
// as an asciicast. The rules and the files are in SessionCore; this is the plugin around them.
// Docs: ../README.md.
import Foundation
import ModHostPluginSDK
import ModuleContracts
import ModuleKit
import SessionCore

final class Session: EngineModule {
    static let id = "session"
    static let version = "1.0.0"
    static let description = "Terminal session recording in omnish's format, LLM context, asciicast export"

    let engine: EngineHost<SessionEngine>

    init(host: PluginHost, config: RawJSON) throws {
        let config = try host.readConfig(SessionConfig.self, from: config)
        // A shadow reads the files and writes none (MODULES.md preamble).
        let disk = SessionDisk(root: host.dataDirectory, writable: !host.isShadow)
        engine = EngineHost(host: host, try SessionEngine(disk: disk, config: config))
    }

    /// The sessions on disk (not after a hot swap, which hands them over in memory).
    func restore(_ records: StoredRecords, into session: inout SessionEngine, at now: Int64, effects: inout ModuleEffectList) throws {
        session.loadAll(at: now, effects: &effects)
    }

    /// Every pending byte reaches `stream.bin` before the next instance (or the next run) reads it.
    func stop() {
        try? engine.perform { engine, _, effects in engine.flushAll(effects: &effects) }
        engine.stop()
    }

    static func register(_ methods: inout Methods<Session>) {
        methods.add("register", params: ["sessionId"]) { (s, p: RegisterParams) throws -> SessionSummary in
            // Stdio is client 1 and never disconnects while the host runs; 0 is a module's call.
            let client = CallInfo.current?.clientID.flatMap { $0 > 1 ? $0 : nil }
            return try s.engine.perform { e, now, _ in
                try e.register(p.sessionId, parent: p.parentSessionId, attrs: p.attrs?.strings ?? [:], client: client, at: now)
            }
        }
        methods.add("update", params: ["sessionId", "attrs"]) { (s, p: UpdateParams) in
            try s.engine.perform { e, now, _ in try e.update(p.sessionId, attrs: p.attrs.strings, at: now) }
        }
        methods.add("writeIo") { (s, p: WriteParams) throws -> WriteAnswer in
            let record = try p.record(limit: SessionEngine.maxWriteBytes, field: "data")
            return try s.engine.perform { try $0.write(p.sessionId, [record], at: $1, effects: &$2) }
        }
        methods.add("writeIoBatch") { (s, p: BatchParams) throws -> WriteAnswer in
            let records = try p.decoded()
            return try s.engine.perform { try $0.write(p.sessionId, records, at: $1, effects: &$2) }
        }
        methods.add("commandComplete") { (s, p: CompleteParams) in
            try s.engine.perform { try $0.commandComplete(p.sessionId, p.record, at: $1, effects: &$2) }
        }
        methods.add("end", params: ["sessionId"]) { (s, p: EndParams) in
            try s.engine.perform { e, now, _ in try e.end(p.sessionId, exitCode: p.exitCode, at: now) }
        }
        methods.add("list") { s in try s.engine.perform { engine, _, _ in ["sessions": engine.list()] } }
        methods.add("get", params: ["sessionId"]) { (s, p: IDParams) in try s.engine.perform { e, now, _ in try e.get(p.sessionId, at: now) } }
        methods.add("context", params: ["sessionId"]) { (s, p: ContextParams) in
            try s.engine.perform { e, now, _ in try e.context(p.sessionId, scope: p.scope, maxChars: p.maxChars, at: now) }
        }
        methods.add("readStream", params: ["sessionId"]) { (s, p: StreamQuery) in try s.engine.perform { e, now, _ in try e.readStream(p, at: now) } }
        methods.add("export", params: ["sessionId", "format"]) { (s, p: ExportParams) in
            try s.engine.perform { e, now, _ in ["cast": try e.export(p.sessionId, format: p.format, at: now)] }
        }
        methods.add("evictInactive") { (s, p: EvictParams) in
            try s.engine.perform { ["evicted": try $0.evictInactive(hours: p.hours ?? 48, at: $1, effects: &$2)] }
        }
        methods.add("cleanup") { (s, p: CleanupParams) in
            try s.engine.perform { ["removed": try $0.cleanup(olderThanHours: p.olderThanHours ?? 48, at: $1, effects: &$2)] }
        }
        methods.on(Topic.hostClientDisconnected) { (s, e: ClientEvent) in
            try s.engine.perform { engine, now, effects in engine.clientGone(e.clientId, at: now, effects: &effects) }
        }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Session.pluginEntry() }
