import Foundation
import ModHostTestKit
import Testing

/// A host serving the token module (a copy of `libToken.so`, and of `libHealth.so` when asked)
/// on a manual clock at 2026-01-01T00:00:00Z, its `authDir` a fresh private directory, and the
/// token calls, files and checks the suites share. Time moves only by the test; nothing sleeps
/// (waits poll an observable state with a deadline).
struct TokenBench {
    static let start: Int64 = ModuleHarness.defaultStart
    static let second: Int64 = 1000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    let harness: ModuleHarness
    let authDir: String
    var host: HostProcess { harness.host }

    /// - Parameters:
    ///   - config: the `token` section (its `authDir` is set to the bench's).
    ///   - health: load the health module too (the token → health chain).
    init(config: [String: JSON] = [:], health: Bool = false, authDir: String? = nil, state: String? = nil,
         clockStart: Int64 = start, files: [String: JSON] = [:]) throws {
        let directory = try authDir ?? TemporaryDirectory.make(prefix: "token-auth")
        self.authDir = directory
        for (name, fields) in files { try Self.write(fields, to: "\(directory)/\(name)") }
        var section = config
        section["authDir"] = .string(directory)
        harness = try ModuleHarness(modules: health ? ["libToken.so", "libHealth.so"] : ["libToken.so"], config: ["token": .object(section)],
                                    state: state, clockStart: clockStart)
    }

    private init(harness: ModuleHarness, authDir: String) {
        self.harness = harness
        self.authDir = authDir
    }

    func killAndRestart(clockStart: Int64) throws -> TokenBench {
        TokenBench(harness: try harness.killAndRestart(clockStart: clockStart), authDir: authDir)
    }

    // MARK: Files

    /// Writes a token file by rename (as a login tool would), mode `mode`.
    static func write(_ fields: JSON, to path: String, mode: mode_t = 0o600) throws {
        let temp = "\(path).new-\(UInt32.random(in: 0...UInt32.max))"
        try Data(fields.text.utf8).write(to: URL(fileURLWithPath: temp))
        chmod(temp, mode)
        guard rename(temp, path) == 0 else { throw HostProcessError("rename \(temp): \(String(cString: strerror(errno)))") }
    }

    func write(_ name: String, _ fields: JSON, mode: mode_t = 0o600) throws {
        try Self.write(fields, to: "\(authDir)/\(name)", mode: mode)
    }

    func readFile(_ name: String) throws -> JSON {
        try JSON(parsing: String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(authDir)/\(name)")), as: UTF8.self))
    }

    func fileText(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(authDir)/\(name)")), as: UTF8.self)
    }

    func fileMode(_ name: String) -> mode_t {
        var info = stat()
        return stat("\(authDir)/\(name)", &info) == 0 ? info.st_mode & 0o777 : 0
    }

    // MARK: Calls

    func status(_ id: String) throws -> JSON {
        try host.call("token.status", ["id": .string(id)])
    }

    func list() throws -> [String: JSON] {
        let tokens = try host.call("token.list")["tokens"].array ?? []
        return Dictionary(tokens.map { ($0["id"].string ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @discardableResult
    func refresh(_ id: String) throws -> JSON {
        try host.call("token.refresh", ["id": .string(id)], timeout: 60)
    }

    func at(_ ms: Int64) throws {
        try harness.at(ms)
    }

    /// Polls `token.status {id}` until `done` holds (30 s at most: inotify and the I/O queue
    /// answer in milliseconds).
    @discardableResult
    func waitForStatus(_ id: String, timeout: TimeInterval = 30, _ done: (JSON) -> Bool) throws -> JSON {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let status = (try? host.call("token.status", ["id": .string(id)])) ?? .null
            if done(status) { return status }
            guard Date() < deadline else { throw HostProcessError("token \(id) never reached the state; last: \(status.text)", stderr: host.stderrText) }
            usleep(10_000)
        }
    }

    /// Polls `token.list` until `done` holds.
    func waitForList(timeout: TimeInterval = 30, _ done: ([String: JSON]) -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !(done((try? list()) ?? [:])) {
            guard Date() < deadline else { throw HostProcessError("token.list never reached the state: \(try list())", stderr: host.stderrText) }
            usleep(10_000)
        }
    }

    /// The events the channel received so far (subscribe first), of `topic` when given.
    func events(_ topic: String? = nil) -> [JSON] {
        host.stdoutLines.compactMap { try? JSON(parsing: $0) }.filter {
            $0["method"] == "event" && (topic == nil || $0["params"]["topic"] == .string(topic!))
        }
    }

    /// Checks that no secret reached the host's log or any event published so far.
    func expectNoLeak(of secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let log = host.stderrText
        let events = self.events().map(\.text).joined(separator: "\n")
        for secret in secrets {
            #expect(!log.contains(secret), "a secret reached the log", sourceLocation: sourceLocation)
            #expect(!events.contains(secret), "a secret reached an event", sourceLocation: sourceLocation)
        }
    }
}

/// A token file in the upstream (snake_case) spelling, expiring at `expiresAt` (epoch s).
func snakeToken(access: String, refresh: String, expiresAtSeconds: Int64, endpoint: String, client: String? = "client-a",
                secret: String? = "secret-a", extra: [String: JSON] = [:]) -> JSON {
    var fields: [String: JSON] = ["access_token": .string(access), "refresh_token": .string(refresh),
                                  "expires_at": .int(expiresAtSeconds), "token_endpoint": .string(endpoint), "token_type": "Bearer"]
    if let client { fields["client_id"] = .string(client) }
    if let secret { fields["client_secret"] = .string(secret) }
    return .object(fields.merging(extra) { _, new in new })
}
