import Foundation
import ModHostTestKit
import Testing

/// A host serving only the health module (`ModuleHarness` with a copy of `libHealth.so`) on a
/// manual clock that starts at 2026-01-01T00:00:00Z, in `TZ=UTC` unless told otherwise, so every
/// deadline, including "the next local midnight", is a fixed number; and the health calls and
/// checks its suites share. Nothing in them sleeps.
struct HealthBench {
    /// 2026-01-01T00:00:00Z, a Thursday.
    static let start: Int64 = ModuleHarness.defaultStart
    static let second: Int64 = 1000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    let harness: ModuleHarness
    var host: HostProcess { harness.host }
    var plugins: String { harness.plugins }

    /// - Parameters:
    ///   - config: the `health` section of the host's `--config` file; nil: no file (defaults).
    ///   - state: the state directory; nil makes a fresh one.
    ///   - clockStart: the manual clock's start, in ms since the epoch.
    ///   - timeZone: the host's `TZ`.
    init(config: JSON? = nil, state: String? = nil, clockStart: Int64 = start, timeZone: String = "UTC") throws {
        harness = try ModuleHarness(modules: ["libHealth.so"], config: config.map { ["health": $0] } ?? [:], state: state,
                                    clockStart: clockStart, timeZone: timeZone)
    }

    private init(_ harness: ModuleHarness) {
        self.harness = harness
    }

    /// Kills the host with SIGKILL (no shutdown, no flush) and starts a new one on the same state
    /// directory, plugin and config, its clock starting at `clockStart`.
    func killAndRestart(clockStart: Int64) throws -> HealthBench {
        HealthBench(try harness.killAndRestart(clockStart: clockStart))
    }

    // MARK: Clock

    /// Sets the manual clock to `ms` (`clock.set`).
    @discardableResult
    func at(_ ms: Int64) throws -> Int64 {
        try harness.at(ms)
    }

    // MARK: Methods

    /// `health.report` for `key` with `fields` (status, errorClass, retryAfter, body, series).
    @discardableResult
    func report(_ key: String, _ fields: JSON = [:]) throws -> JSON {
        var params = fields.object ?? [:]
        params["providerKey"] = .string(key)
        return try host.call("health.report", .object(params))
    }

    /// Reports `status` for `key` `count` times; returns the last result.
    @discardableResult
    func report(_ key: String, status: Int64, times count: Int) throws -> JSON {
        var last: JSON = .null
        for _ in 0..<count { last = try report(key, ["status": .int(status)]) }
        return last
    }

    @discardableResult
    func reportSuccess(_ key: String) throws -> JSON {
        try host.call("health.reportSuccess", ["providerKey": .string(key)])
    }

    func status(_ key: String) throws -> JSON {
        try host.call("health.status", ["providerKey": .string(key)])
    }

    /// Every entry `health.status` without a key lists, by provider key.
    func allStatuses() throws -> [String: JSON] {
        let entries = try host.call("health.status", [:])["entries"].array ?? []
        return Dictionary(entries.map { ($0["providerKey"].string ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
    }

    func available(_ keys: [String]) throws -> JSON {
        try host.call("health.available", ["providerKeys": .array(keys.map { .string($0) })])
    }

    func isAvailable(_ key: String) throws -> Bool {
        try available([key])["available"] == [.string(key)]
    }

    func snapshot() throws -> JSON {
        try host.call("health.snapshot")
    }

    /// The provider keys of the snapshot's entries.
    func snapshotKeys() throws -> Set<String> {
        Set((try snapshot()["entries"].array ?? []).compactMap { $0["providerKey"].string })
    }

    // MARK: Checks

    /// `key`'s state is `state`, with `untilMs == until` (nil: no deadline), seen both by
    /// `health.status` and by `health.available`.
    func expect(
        _ key: String, _ state: String, until: Int64?, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let status = try status(key)
        #expect(status["providerKey"] == .string(key), "\(status)", sourceLocation: sourceLocation)
        #expect(status["state"] == .string(state), "\(key): \(status)", sourceLocation: sourceLocation)
        #expect(status["untilMs"] == (until.map { JSON.int($0) } ?? .null), "\(key): \(status)", sourceLocation: sourceLocation)
        let usable = try isAvailable(key)
        if state == "healthy" {
            #expect(usable, "\(key) is \(state) but health.available refuses it", sourceLocation: sourceLocation)
        } else if state != "halfOpen" {  // asking available about a halfOpen key would take its probe
            #expect(!usable, "\(key) is \(state) but health.available offers it", sourceLocation: sourceLocation)
        }
    }

    /// `key` is out (`state`) until exactly `until`: still at `until - 1`, healthy at `until`.
    /// Moves the clock to `until`.
    func expectOutUntil(
        _ key: String, _ state: String, until: Int64, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try at(until - 1)
        try expect(key, state, until: until, sourceLocation: sourceLocation)
        try at(until)
        try expect(key, "healthy", until: nil, sourceLocation: sourceLocation)
    }

    /// A call that must fail with -32602 whose message (or data) names `field`; returns the error.
    @discardableResult
    func expectInvalid(
        _ method: String, _ params: JSON, naming field: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JSON {
        let error = try host.expectFailure(method, params)
        #expect(error["code"] == -32602, "\(method) \(params): \(error)", sourceLocation: sourceLocation)
        let text = (error["message"].string ?? "") + " " + error["data"].text
        #expect(text.contains(field), "\(method) \(params): the error should name \"\(field)\": \(error)", sourceLocation: sourceLocation)
        return error
    }
}
