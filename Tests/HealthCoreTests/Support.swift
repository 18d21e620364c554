import Foundation
import ModuleContracts
@testable import HealthCore

/// 2026-01-01T00:00:00Z, a Thursday.
let t0: Int64 = 1_767_225_600_000
let second: Int64 = 1000
let minute: Int64 = 60_000
let hour: Int64 = 3_600_000
let day: Int64 = 86_400_000
let utc = TimeZone(identifier: "UTC")!

/// An engine with a log of everything its operations asked for.
final class Bench {
    var engine: HealthEngine
    var effects = Effects()

    init(timeZone: TimeZone = utc) {
        engine = HealthEngine(config: HealthConfig(), timeZone: timeZone)
    }

    init(timeZone: TimeZone = utc, _ configure: (inout HealthConfig) throws -> Void) rethrows {
        var config = HealthConfig()
        try configure(&config)
        engine = HealthEngine(config: config, timeZone: timeZone)
    }

    @discardableResult
    func report(_ key: String, status: Int? = nil, errorClass: ErrorClass? = nil, retryAfter: ProviderError.RetryAfter? = nil,
                         body: String? = nil, series: String? = nil, at now: Int64) throws -> ReportResult {
        let input = ProviderError(providerKey: key, series: series, status: status, errorClass: errorClass?.rawValue,
                                retryAfter: retryAfter, body: body)
        return try engine.report(input, at: now, effects: &effects)
    }

    @discardableResult
    func success(_ key: String, at now: Int64) throws -> SuccessResult {
        try engine.reportSuccess(key, at: now, effects: &effects)
    }

    func status(_ key: String, at now: Int64) throws -> KeyStatus {
        try engine.status(of: key, at: now, effects: &effects)
    }

    func state(_ key: String, at now: Int64) throws -> KeyState {
        try status(key, at: now).state
    }

    func available(_ keys: [String], at now: Int64) -> AvailableAnswer {
        engine.available(keys, at: now, effects: &effects)
    }

    func snapshot(at now: Int64) -> Snapshot {
        engine.snapshot(at: now, effects: &effects)
    }

    /// The topics published since the last call, with their provider key or series.
    func takeEvents() -> [String] {
        defer { effects.events = [] }
        return effects.events.map { "\($0.topic) \($0.data.providerKey ?? $0.data.series ?? "")" }
    }

    /// The store writes since the last call, as `put key/a` / `delete key/a`.
    func takeWrites() -> [String] {
        defer { effects.writes = [] }
        return effects.writes.map { write in
            switch write {
            case .putKey, .putSeries: "put \(write.storeKey)"
            case .deleteKey, .deleteSeries: "delete \(write.storeKey)"
            }
        }
    }
}
