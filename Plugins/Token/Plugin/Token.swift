// Token: OAuth token lifecycle for modhost — token files read in both spellings, statuses,
// refresh-ahead with per-token jitter, single-flight refreshes across processes (flock),
// RFC 6749 outcomes, backoff and suspension, the events health consumes. The rules live in
// TokenCore (pure, unit-tested); TokenIO carries out the I/O they ask for (the auth directory,
// the lock files, the token endpoint); this file is the plugin around them. Docs: ../README.md.
import Foundation
import ModHostPluginSDK
import ModuleKit
import TokenCore

final class Token: EngineModule {
    static let id = "token"
    static let version = "1.0.0"
    static let description = "OAuth token lifecycle: token files, refresh per RFC 6749, single flight across processes"

    let engine: EngineHost<TokenEngine>
    let io: TokenIO

    init(host: PluginHost, config: RawJSON) throws {
        let config = try host.readConfig(TokenConfig.self, from: config)
        let settings = try TokenSettings(config)
        let directory = config.authDir ?? "\(host.dataDirectory)/auth"
        io = TokenIO(host: host, directory: directory, timeoutMs: settings.refreshTimeoutMs)
        engine = EngineHost(host: host, TokenEngine(settings: settings, shadow: host.isShadow))
        engine.carryOutside { [io] engine, effects in
            if !effects.requests.isEmpty { io.carryOut(effects.requests, engine: engine) }
        }
    }

    /// The `token/<id>` records of the last run: history, suspension, backoff, file fingerprint.
    func restore(_ records: StoredRecords, into token: inout TokenEngine, at now: Int64, effects: inout TokenEffects) throws {
        token.load(try records.readNamed("token/", as: StoredToken.self))
    }

    func start() throws {
        try engine.start { records, token, now, effects in try restore(records, into: &token, at: now, effects: &effects) }
        io.start(engine: engine)
    }

    /// Lets a refresh under way finish (bounded), then fails the calls still held; a refresh
    /// cut short is done again by the next start (a restart of this instance, or a new version).
    func stop() {
        io.stop()
        _ = try? engine.perform { $0.abandonFlights(effects: &$2) }
        engine.stop()
    }

    static func register(_ methods: inout Methods<Token>) {
        methods.add("list") { token in try token.engine.perform { engine, now, _ in engine.list(at: now) } }
        methods.add("status", params: ["id"]) { (token, p: TokenID) in try token.engine.perform { engine, now, _ in try engine.status(p.id, at: now) } }
        methods.addPending("access", params: ["id"]) { (token, p: TokenID, reply) in
            try token.engine.perform(parking: reply) { try $0.access(p.id, call: $2, at: $1, effects: &$3) }
        }
        methods.addPending("refresh", params: ["id"]) { (token, p: TokenID, reply) in
            try token.engine.perform(parking: reply) { try $0.refresh(p.id, call: $2, at: $1, effects: &$3) }
        }
        methods.addPending("refreshDue") { (token, _: NoParams, reply) in
            try token.engine.perform(parking: reply) { $0.refreshDue(call: $2, at: $1, effects: &$3) }
        }
        methods.add("suspend", params: ["id"]) { (token, p: TokenID) in try token.engine.perform { try $0.suspend(p.id, at: $1, effects: &$2) } }
        methods.add("resume", params: ["id"]) { (token, p: TokenID) in try token.engine.perform { try $0.resume(p.id, at: $1, effects: &$2) } }
    }

    struct TokenID: Decodable, Sendable {
        let id: String
    }

    /// No params (`{}`, `[]` or none).
    struct NoParams: Decodable, Sendable {
        init(from decoder: any Decoder) throws {}
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Token.pluginEntry() }
