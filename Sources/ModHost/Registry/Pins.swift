import Foundation
import Logging
import ModHostSupport
import Synchronization

/// Pinned generations: the generation a swap, promote or rollback chose for a module, kept so
/// that a restart brings it back (the safe-migration seed: a restart after a rollback keeps the
/// old version, even though the new file is still on disk).
///
/// A pin is a copy of the chosen image's bytes, `<state>/pinned/<server-id>/<id>-g<generation>-<tag>.so` (made from
/// the private copy that was mapped, so it holds even when the original file was overwritten
/// since), and a record in `<state>/pinned/<server-id>/pins.json` (per server id, like the
/// database, so hosts sharing a state directory keep their own): the version, the file it came from, and the *offer*, the file
/// a start would otherwise load for the module (its `host.modules` "serve" entry, else the file
/// it was loaded from) with that file's fingerprint when the pin was made. At start, a pin
/// whose offer is still the same file (same path and fingerprint) is loaded instead of it; an
/// offer that changed (a new file dropped in, a config entry edited) wins and drops the pin.
///
/// Both files are written atomically (a new file, fsync, rename, fsync of the directory):
/// the copy first under a name of its own, then the record naming it, then the old copy is
/// deleted; so a host killed at any point finds either the old pin whole or the new one (a copy
/// no record names is deleted at start). The directory is 0700, the files 0600. Used from the control queue and the
/// main thread at start; the records are behind one mutex, held while `pins.json` is written.
final class Pins: Sendable {
    struct Offer: Codable, Equatable, Sendable {
        let path: String
        let fingerprint: FileFingerprint?
    }

    struct Record: Codable, Sendable {
        let version: String
        let generation: Int
        /// The file the chosen generation was loaded from, as listings name it.
        let file: String
        /// `swap`, `promote`, `rollback` or `gate`.
        let chosenBy: String
        let offer: Offer
        /// Host clock time of the pin, ms since the epoch.
        let pinnedAtMs: Int64
        /// What `file` looked like when the chosen generation was loaded from it (nil: unknown).
        var fileFingerprint: FileFingerprint?
        /// The copy's name in the pins directory (nil in records of before: `<id>.so`).
        var copy: String?
    }

    private struct Stored: Codable {
        var version = 1
        var pins: [String: Record]
        /// Per module, the file of a canary or shadow that was rolled back (by hand or by a
        /// gate): a start does not start it again from an unchanged `host.modules` entry.
        var rejected: [String: Offer]?
    }

    let directory: String
    let recordsPath: String
    private let logger: Logger
    /// The pins and the rejections, as `pins.json` holds them: changed only through `update`.
    private struct State {
        var pins: [String: Record]
        var rejected: [String: Offer]
    }
    private let state: Mutex<State>

    /// Reads `pins.json`. One that cannot be read is logged and set aside (renamed to
    /// `pins.json.bad`): the host starts as if nothing were pinned.
    init(stateDirectory: String, serverID: String, logger: Logger) {
        directory = "\(stateDirectory)/pinned/\(serverID)"
        recordsPath = "\(directory)/pins.json"
        self.logger = logger
        var loaded: [String: Record] = [:]
        var rejections: [String: Offer] = [:]
        /// The record was read (or there is none): copies it does not name may go.
        var known = true
        if let data = FileManager.default.contents(atPath: recordsPath) {
            do {
                let stored = try JSONDecoder().decode(Stored.self, from: data)
                loaded = stored.pins
                rejections = stored.rejected ?? [:]
            } catch {
                logger.error("cannot read the pins \(recordsPath) (\(error)); moved it to pins.json.bad and starting without pins")
                rename(recordsPath, recordsPath + ".bad")
                known = false
            }
        } else if access(recordsPath, F_OK) == 0 || errno != ENOENT {
            logger.error("cannot read the pins \(recordsPath) (\(String(cString: strerror(errno)))); starting without pins, the file left as it is")
            known = false
        }
        state = Mutex(State(pins: loaded, rejected: rejections))
        // Copies no record names: a host killed between writing a copy and its record. Only
        // names this type gives, and only when the record was read (a `.bad` one may be mended).
        if known {
            let named = Set(loaded.map { Self.copyName($0.key, $0.value) })
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            where Self.isCopyName(name) && !named.contains(name) {
                unlink("\(directory)/\(name)")
            }
        }
    }

    /// `<id>-g<generation>-<hex>.so`, or that with `.new` (a copy being written).
    private static func isCopyName(_ name: String) -> Bool {
        var stem = Substring(name)
        if stem.hasSuffix(".new") { stem = stem.dropLast(4) }
        guard stem.hasSuffix(".so") else { return false }
        let parts = stem.dropLast(3).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let tag = parts.last, let generation = parts.dropLast().last else { return false }
        return !tag.isEmpty && tag.allSatisfy(\.isHexDigit) && generation.first == "g" && generation.dropFirst().allSatisfy(\.isNumber)
            && !generation.dropFirst().isEmpty
    }

    private static func copyName(_ id: String, _ record: Record) -> String { record.copy ?? "\(id).so" }

    /// Records that the canary or shadow of `id` from `file` was rolled back. A failure is
    /// logged (a restart would then start it again from an unchanged config entry).
    func reject(_ id: String, file: String) {
        do {
            try StateDirectory.makeDirectories(directory)
            try update { $0.rejected[id] = Offer(path: file, fingerprint: FileFingerprint(file)) }
        } catch {
            logger.error("could not record the rollback of \(id)'s \(LogText.quote(file, keep: .tail)): \(error)")
        }
    }

    /// Whether `path` is the file (same path and fingerprint) of a canary or shadow of `id`
    /// that was rolled back.
    func isRejected(_ id: String, path: String) -> Bool {
        guard let offer = state.withLock({ $0.rejected[id] }) else { return false }
        return PathTrust.lexicallyNormalized(offer.path) == PathTrust.lexicallyNormalized(path) && FileFingerprint(path) == offer.fingerprint
    }

    /// Forgets a rolled-back canary or shadow of `id` (its entry was edited, the module unloaded).
    func clearRejection(_ id: String) {
        guard state.withLock({ $0.rejected[id] }) != nil else { return }
        do {
            try update { $0.rejected[id] = nil }
        } catch {
            logger.error("could not forget the rollback of \(id): \(error)")
        }
    }

    var all: [String: Record] { state.withLock { $0.pins } }

    func record(_ id: String) -> Record? { state.withLock { $0.pins[id] } }

    /// The pinned copy of module `id`, as its record names it.
    func copyPath(_ id: String, _ record: Record) -> String { "\(directory)/\(Self.copyName(id, record))" }

    /// Pins `image` (the generation just chosen for `id`). A failure is logged: the change it
    /// follows stands, but a restart would not bring it back.
    func pin(_ id: String, image: PluginImage, generation: Int, chosenBy: String, offer: String, nowMs: Int64) {
        do {
            try StateDirectory.makeDirectories(directory)
            let old = record(id)
            let name = "\(id)-g\(generation)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).so"
            try image.withCopy { fd in
                guard let fd else { throw ConfigurationError("the mapped image is no longer open") }
                try Self.writeAtomically(to: "\(directory)/\(name)", mode: 0o600) { out in try Self.copy(from: fd, to: out) }
            }
            let record = Record(
                version: image.descriptor.version, generation: generation, file: image.file, chosenBy: chosenBy,
                offer: Offer(path: offer, fingerprint: FileFingerprint(offer)), pinnedAtMs: nowMs, fileFingerprint: image.sourceFingerprint, copy: name)
            do {
                try update { $0.pins[id] = record }
            } catch {
                unlink("\(directory)/\(name)")
                throw error
            }
            if let old, Self.copyName(id, old) != name { unlink(copyPath(id, old)) }
            logger.info("pinned \(id) \(record.version) (generation \(generation), chosen by a \(chosenBy)): a restart brings it back")
        } catch {
            logger.error("could not pin \(id) \(image.descriptor.version) after a \(chosenBy): \(error); a restart loads \(LogText.quote(offer, keep: .tail)) instead")
        }
    }

    /// At start: the pins to load instead of what is offered, by module id. The offer for a
    /// pinned module is its `host.modules` "serve" entry's file if it has one, else the
    /// directory file the pin was made for. A pin whose offer is no longer the same file (another
    /// path, another fingerprint: a new file dropped in, an entry edited), or whose copy is
    /// missing, is dropped, with a notice saying why: what is offered now wins.
    func startPlan(directoryFiles: [String], hostModules: [HostModuleEntry]) -> [String: Registry.PinnedLoad] {
        let directory = Set(directoryFiles.map(PathTrust.lexicallyNormalized))
        var plan: [String: Registry.PinnedLoad] = [:]
        for (id, record) in all.sorted(by: { $0.key < $1.key }) {
            let pinnedFor = PathTrust.lexicallyNormalized(record.offer.path)
            let serve = hostModules.first { $0.id == id && $0.mode == "serve" }
            let why: String?
            if let serve, PathTrust.lexicallyNormalized(serve.path) != pinnedFor {
                why = "host.modules.\(id) now names \(LogText.quote(serve.path, keep: .tail)), not \(LogText.quote(record.offer.path, keep: .tail))"
            } else if serve == nil && !directory.contains(pinnedFor) {
                why = "\(LogText.quote(record.offer.path, keep: .tail)), the file it was pinned over, is no longer offered"
            } else if FileFingerprint(record.offer.path) != record.offer.fingerprint {
                why = "\(LogText.quote(record.offer.path, keep: .tail)) changed since the pin was made: the new file wins"
            } else if access(copyPath(id, record), R_OK) != 0 {
                why = "its copy \(copyPath(id, record)) is missing"
            } else {
                why = nil
            }
            if let why {
                logger.notice("dropped the pin of \(id) \(record.version) (chosen by a \(record.chosenBy)): \(why)")
                remove(id)
                continue
            }
            plan[id] = Registry.PinnedLoad(copy: copyPath(id, record), file: record.file, offer: record.offer.path, fileFingerprint: record.fileFingerprint)
        }
        return plan
    }

    /// Drops the pin of `id`, if any (an unload, an offer that changed).
    func remove(_ id: String) {
        guard let old = record(id) else { return }
        do {
            try update { $0.pins[id] = nil }
            unlink(copyPath(id, old))
        } catch {
            logger.error("could not drop the pin of \(id): \(error)")
        }
    }

    /// Applies `change` to the pins and rejections, writes `pins.json` with the result, and
    /// keeps it only once it is on disk (under the lock, so two changes never race on the file).
    private func update(_ change: (inout State) -> Void) throws {
        try state.withLock { state in
            var next = state
            change(&next)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let data = [UInt8](try encoder.encode(Stored(pins: next.pins, rejected: next.rejected.isEmpty ? nil : next.rejected)))
            try Self.writeAtomically(to: recordsPath, mode: 0o600) { out in try Self.writeAll(data, to: out) }
            state = next
        }
    }

    /// Writes a new file beside `path` with `body`, syncs it and renames it over `path`, then
    /// syncs the directory. Nothing is left half-written at `path`.
    static func writeAtomically(to path: String, mode: mode_t, _ body: (Int32) throws -> Void) throws {
        let temporary = path + ".new"
        unlink(temporary)
        let out = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw ConfigurationError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        do {
            try body(out)
            guard fchmod(out, mode) == 0, fsync(out) == 0 else { throw ConfigurationError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
            close(out)
        } catch {
            close(out)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ConfigurationError("cannot rename \(temporary) to \(path): \(reason)")
        }
        let parent = open(PathTrust.parent(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 {
            fsync(parent)
            close(parent)
        }
    }

    private static func copy(from fd: Int32, to out: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw ConfigurationError("cannot read the mapped image: \(String(cString: strerror(errno)))") }
            if count == 0 { return }
            try writeAll(buffer[0..<count], to: out)
            offset += off_t(count)
        }
    }

    private static func writeAll(_ bytes: some Collection<UInt8>, to out: Int32) throws {
        let bytes = Array(bytes)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(out, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ConfigurationError("write failed: \(String(cString: strerror(errno)))") }
            written += count
        }
    }
}
