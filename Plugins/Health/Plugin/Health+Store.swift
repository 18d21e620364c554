import Foundation
import HealthCore
import ModHostPluginSDK
import ModHostSupport

/// The module's records in the host store: `key/<providerKey>` and `series/<name>`, JSON.
///
/// Start-up reads them all (`load`), with the fast reader for the shape the module writes
/// (`KeyEntry.fromRecord`; `JSONDecoder` for anything else), so 50,000 records take a fraction
/// of a second. Records that are stale by then (expired, unreadable, implausible) are deleted,
/// but a store delete costs about 20 µs, so only the first `deletesAtStart` go before the
/// module is ready; the rest are deleted `deletesPerSweep` at a time by a host timer that runs
/// between calls (at once on the real clock; at the next clock move on a manual one), each
/// skipped if a call meanwhile made the engine store that record again. Records still waiting
/// at a hot swap or shutdown are found stale again at the next start.
extension Health {
    static let deletesAtStart = 256
    static let deletesPerSweep = 128

    /// Carries out an operation's store writes (on disk when this returns), events and log lines.
    func finish(_ effects: Effects) {
        let store = host.store
        for write in effects.writes {
            do {
                switch write {
                case .putKey(let entry): try store.put(write.storeKey, encoding: entry)
                case .putSeries(let trip): try store.put(write.storeKey, encoding: trip)
                case .deleteKey, .deleteSeries: try store.delete(write.storeKey)
                }
            } catch {
                host.log(.error, "could not write store record \(LogText.quote(write.storeKey)): the host's store failed (its log says why)")
            }
        }
        for event in effects.events {
            do {
                try host.publish(event.topic, event.data)
            } catch {
                host.log(.error, "publish \(event.topic): \(error)")
            }
        }
        for note in effects.notes { host.log(.warning, note) }
    }

    /// Reads the records of the last run into the engine; what is stale by now is deleted.
    func load() throws {
        let store = host.store
        let decoder = JSONDecoder()
        var unreadable: [StoreWrite] = []
        let keyRecords = try store.list(prefix: StoreWrite.keyPrefix)
        var keys: [KeyEntry] = []
        keys.reserveCapacity(keyRecords.count)
        for (storeKey, value) in keyRecords {
            if let entry = value.withUnsafeBytes({ KeyEntry.fromRecord($0) }) ?? (try? decoder.decode(KeyEntry.self, from: value)) {
                keys.append(entry)
            } else {
                unreadable.append(.deleteKey(String(storeKey.dropFirst(StoreWrite.keyPrefix.count))))
            }
        }
        var series: [SeriesTrip] = []
        for (storeKey, value) in try store.list(prefix: StoreWrite.seriesPrefix) {
            if let trip = value.withUnsafeBytes({ SeriesTrip.fromRecord($0) }) ?? (try? decoder.decode(SeriesTrip.self, from: value)) {
                series.append(trip)
            } else {
                unreadable.append(.deleteSeries(String(storeKey.dropFirst(StoreWrite.seriesPrefix.count))))
            }
        }
        for write in unreadable.prefix(10) { host.log(.warning, "dropping unreadable record \(LogText.quote(write.storeKey))") }
        if unreadable.count > 10 { host.log(.warning, "dropping \(unreadable.count - 10) more unreadable records") }

        let now = host.nowMs
        var effects = Effects()
        let count = runtime.withLock { runtime in
            runtime.engine.load(keys: keys, series: series, at: now, effects: &effects)
            return runtime.engine.keyCount
        }
        for note in effects.notes { host.log(.warning, note) }
        deleteStale(unreadable + effects.writes)
        host.log(.info, "restored \(count) of \(keys.count) stored keys, \(series.count) series records read")
    }

    /// Deletes the first of `stale` now and leaves the rest to `sweepStale`.
    private func deleteStale(_ stale: [StoreWrite]) {
        let store = host.store
        for write in stale.prefix(Self.deletesAtStart) { try? store.delete(write.storeKey) }
        guard stale.count > Self.deletesAtStart else { return }
        runtime.withLock { $0.stale = Array(stale.dropFirst(Self.deletesAtStart)) }
        host.log(.info, "deleting \(stale.count - Self.deletesAtStart) more stale records in the background")
        scheduleSweep()
    }

    private func scheduleSweep() {
        do {
            try host.startTimer(after: .zero) { [self] in sweepStale() }
        } catch {
            host.log(.warning, "stale records stay in the store until the next start: \(error)")
        }
    }

    /// One timer firing of the deferred deletion: runs between calls (the host serializes an
    /// instance's timers with its calls), and skips a record the engine holds again.
    private func sweepStale() {
        let store = host.store
        let remaining = runtime.withLock { runtime -> Int in
            let batch = runtime.stale.suffix(Self.deletesPerSweep)
            runtime.stale.removeLast(batch.count)
            for write in batch where !runtime.engine.holdsRecord(write) { try? store.delete(write.storeKey) }
            return runtime.stale.count
        }
        if remaining > 0 {
            scheduleSweep()
        } else {
            host.log(.info, "deleted the stale records")
        }
    }
}
