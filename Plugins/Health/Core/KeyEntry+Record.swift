import Foundation

extension KeyEntry {
    /// Reads a stored `key/<providerKey>` record, as `JSONDecoder` would, in a fraction of its
    /// time (`JSONPull`); nil when the record is not in the shape `JSONEncoder` writes for a
    /// `KeyEntry`, for the caller to hand to `JSONDecoder` (which reads it or says why not).
    ///
    /// Required and optional fields are those of the `Codable` conformance. A field it does not
    /// know sends the record to `JSONDecoder` too: one added to `KeyEntry` (or its parts) and not
    /// here is read the slow way, never dropped.
    public static func fromRecord(_ bytes: UnsafeRawBufferPointer) -> KeyEntry? {
        var reader = JSONPull(bytes)
        do {
            let entry = try read(&reader)
            try reader.end()
            return entry
        } catch {
            return nil
        }
    }

    private static func read(_ reader: inout JSONPull) throws -> KeyEntry {
        var providerKey: String?
        var series: String?
        var cooldownUntilMs: Int64?, quotaUntilMs: Int64?
        var cooldownSource: String?, quotaSource: String?
        var authBlocked: Bool?, persisted: Bool?
        var circuit: Circuit?
        var backoff: BackoffChain?
        var counts: ErrorCounts?
        var lastError: LastError?
        var state: KeyState?
        try reader.object { reader, key in
            if key.equals("providerKey") { providerKey = try reader.string() }
            else if key.equals("series") { series = reader.null() ? nil : try reader.string() }
            else if key.equals("cooldownUntilMs") { cooldownUntilMs = reader.null() ? nil : try reader.int64() }
            else if key.equals("cooldownSource") { cooldownSource = reader.null() ? nil : try reader.string() }
            else if key.equals("quotaUntilMs") { quotaUntilMs = reader.null() ? nil : try reader.int64() }
            else if key.equals("quotaSource") { quotaSource = reader.null() ? nil : try reader.string() }
            else if key.equals("authBlocked") { authBlocked = try reader.bool() }
            else if key.equals("circuit") { circuit = try readCircuit(&reader) }
            else if key.equals("backoff") { backoff = try readBackoff(&reader) }
            else if key.equals("consecutiveErrors") { counts = try readCounts(&reader) }
            else if key.equals("lastError") { lastError = reader.null() ? nil : try readLastError(&reader) }
            else if key.equals("state") { state = try readEnum(&reader, KeyState.self) }
            else if key.equals("persisted") { persisted = try reader.bool() }
            else { throw JSONPull.Mismatch() }
        }
        guard let providerKey, let authBlocked, let persisted, let circuit, let backoff, let counts, let state else {
            throw JSONPull.Mismatch()
        }
        var entry = KeyEntry(providerKey: providerKey, series: series)
        entry.cooldownUntilMs = cooldownUntilMs
        entry.cooldownSource = cooldownSource
        entry.quotaUntilMs = quotaUntilMs
        entry.quotaSource = quotaSource
        entry.authBlocked = authBlocked
        entry.circuit = circuit
        entry.backoff = backoff
        entry.consecutiveErrors = counts
        entry.lastError = lastError
        entry.announcedState = state
        entry.persisted = persisted
        return entry
    }

    private static func readCircuit(_ reader: inout JSONPull) throws -> Circuit {
        var phase: Circuit.Phase?
        var openUntilMs: Int64?, probeAtMs: Int64?
        var trips: Int?, failures: Int?
        var cause: ErrorClass?
        try reader.object { reader, key in
            if key.equals("phase") { phase = try readEnum(&reader, Circuit.Phase.self) }
            else if key.equals("openUntilMs") { openUntilMs = reader.null() ? nil : try reader.int64() }
            else if key.equals("trips") { trips = try reader.int() }
            else if key.equals("consecutiveFailures") { failures = try reader.int() }
            else if key.equals("cause") { cause = reader.null() ? nil : try readEnum(&reader, ErrorClass.self) }
            else if key.equals("probeAtMs") { probeAtMs = reader.null() ? nil : try reader.int64() }
            else { throw JSONPull.Mismatch() }
        }
        guard let phase, let trips, let failures else { throw JSONPull.Mismatch() }
        return Circuit(phase: phase, openUntilMs: openUntilMs, trips: trips, consecutiveFailures: failures, cause: cause,
                       probeAtMs: probeAtMs)
    }

    private static func readBackoff(_ reader: inout JSONPull) throws -> BackoffChain {
        var step: Int?
        var lastErrorAtMs: Int64?
        try reader.object { reader, key in
            if key.equals("step") { step = try reader.int() }
            else if key.equals("lastErrorAtMs") { lastErrorAtMs = reader.null() ? nil : try reader.int64() }
            else { throw JSONPull.Mismatch() }
        }
        guard let step else { throw JSONPull.Mismatch() }
        return BackoffChain(step: step, lastErrorAtMs: lastErrorAtMs)
    }

    private static func readCounts(_ reader: inout JSONPull) throws -> ErrorCounts {
        var counts = ErrorCounts()
        try reader.object { reader, key in
            let errorClass: ErrorClass? =
                key.equals("rate_limit") ? .rateLimit : key.equals("quota") ? .quota : key.equals("server") ? .server
                : key.equals("network") ? .network : key.equals("auth") ? .auth : key.equals("series_quota") ? .seriesQuota : nil
            guard let errorClass else { throw JSONPull.Mismatch() }
            if !reader.null() { counts[errorClass] = try reader.int() }
        }
        return counts
    }

    private static func readLastError(_ reader: inout JSONPull) throws -> LastError {
        var status: Int?
        var errorClass: ErrorClass?
        var atMs: Int64?
        try reader.object { reader, key in
            if key.equals("status") { status = reader.null() ? nil : try reader.int() }
            else if key.equals("errorClass") { errorClass = try readEnum(&reader, ErrorClass.self) }
            else if key.equals("atMs") { atMs = try reader.int64() }
            else { throw JSONPull.Mismatch() }
        }
        guard let errorClass, let atMs else { throw JSONPull.Mismatch() }
        return LastError(status: status, errorClass: errorClass, atMs: atMs)
    }

    private static func readEnum<E: RawRepresentable<String>>(_ reader: inout JSONPull, _ type: E.Type) throws -> E {
        guard let value = E(rawValue: try reader.string()) else { throw JSONPull.Mismatch() }
        return value
    }
}

extension SeriesTrip {
    /// Reads a stored `series/<name>` record (see `KeyEntry.fromRecord`).
    public static func fromRecord(_ bytes: UnsafeRawBufferPointer) -> SeriesTrip? {
        var reader = JSONPull(bytes)
        var series: String?, reason: String?
        var untilMs: Int64?
        do {
            try reader.object { reader, key in
                if key.equals("series") { series = try reader.string() }
                else if key.equals("untilMs") { untilMs = try reader.int64() }
                else if key.equals("reason") { reason = try reader.string() }
                else { throw JSONPull.Mismatch() }
            }
            try reader.end()
        } catch {
            return nil
        }
        guard let series, let untilMs, let reason else { return nil }
        return SeriesTrip(series: series, untilMs: untilMs, reason: reason)
    }
}
