import Dispatch
import Foundation
import Logging
import Synchronization
import ModHostSupport

/// Modules by id: loading in dependency order, unloading in reverse, and the routing table the
/// control channel and inter-module calls read.
///
/// Lifecycle changes (`load`, `unload`, `shutdown`) are meant to be called from one thread at a
/// time (the host's control queue); lookups may come from any thread.
final class Registry: @unchecked Sendable {
    struct Entry {
        let slot: ModuleSlot
        let instance: ModuleInstance
    }
    private struct State {
        var slots: [String: ModuleSlot] = [:]
        /// Start order of the modules now loaded.
        var order: [String] = []
        var generations: [String: Int] = [:]
        /// The module id last opened from each file, to predict a load's generation.
        var idByFile: [String: String] = [:]
        /// By module id: the file a start would load for it (the path it was loaded by, before
        /// a pinned copy stood in for it), for pins (`Pins`).
        var offers: [String: String] = [:]
        var retiredImages = 0
        /// Set when shutdown begins: nothing more is loaded, and gates stop deciding.
        var closing = false
    }

    /// A pinned copy to load for a module at start instead of the file offered for it.
    struct PinnedLoad {
        /// The pinned copy, `<state>/pinned/<server-id>/<id>-g<generation>-<tag>.so`.
        let copy: String
        /// The file the pinned generation came from: what listings show.
        let file: String
        /// The file the start would otherwise load (`Pins.Offer`).
        let offer: String
        /// What `file` looked like when the pinned generation was loaded from it (nil: unknown).
        var fileFingerprint: FileFingerprint? = nil
    }

    /// What `loadAll` did: the files that failed, the modules it loaded from their pinned
    /// copies, and pinned copies that could not be loaded (the offered file was loaded instead).
    struct LoadAllOutcome {
        var failures: [(file: String, error: LoadError)] = []
        var pinned: Set<String> = []
        var pinFailures: [(id: String, error: LoadError)] = []
    }
    /// Read on every call routed (`slot`), changed by loads, unloads and swaps.
    private let state = ReadMostly(State())
    unowned let runtime: HostRuntime
    let loader: PluginLoader

    init(runtime: HostRuntime, loader: PluginLoader) {
        self.runtime = runtime
        self.loader = loader
    }

    /// The slot serving `id`, if the module is loaded.
    @inline(__always)
    func slot(_ id: String) -> ModuleSlot? { state.read { $0.slots[id] } }

    /// Loaded modules in start order.
    var entries: [Entry] {
        state.withLock { state in
            state.order.compactMap { id in
                guard let slot = state.slots[id], let instance = slot.instance else { return nil }
                return Entry(slot: slot, instance: instance)
            }
        }
    }

    var retiredImages: Int { state.withLock { $0.retiredImages } }

    /// The file a start would load for module `id` (see `State.offers`).
    func offer(_ id: String) -> String? { state.withLock { $0.offers[id] } }

    /// Whether module `id` serves `path` itself, with nothing beside it: its serving generation
    /// came from that path, and the file is unchanged since (same device, inode, size and
    /// modification time). A config entry naming that file for a shadow or canary then has
    /// nothing to start (it was promoted, perhaps before a restart that brought it back pinned).
    func servesUnchanged(_ id: String, file path: String) -> Bool {
        guard let slot = slot(id), let instance = slot.instance, slot.canary == nil, slot.shadow == nil,
              PathTrust.lexicallyNormalized(instance.image.file) == PathTrust.lexicallyNormalized(path) else { return false }
        let known = instance.image.sourceFingerprint
        return known != nil && known == FileFingerprint(path)
    }

    /// Pins the generation a swap, promote or rollback just chose for `id` (`Pins`). The offer
    /// is the module's `host.modules` "serve" file, else the file it was loaded by.
    func pinChosen(_ id: String, _ instance: ModuleInstance, by change: String) {
        let offer = runtime.configModules.servePath(id) ?? offer(id) ?? instance.image.file
        runtime.pins.pin(id, image: instance.image, generation: instance.generation, chosenBy: change, offer: offer, nowMs: runtime.clock.nowMs)
    }

    /// Loads several files (start-up or a directory): opens and validates all, then starts them
    /// in dependency order. Returns the failures; everything else is running.
    ///
    /// A module in `pinned` is loaded from its pinned copy instead: the file that is its offer
    /// is never opened; another file holding that module id is opened (for its descriptor),
    /// then set aside for the copy. A pinned module no file here holds is loaded from its copy
    /// too. When a copy cannot be loaded, the file offered is (a `pinFailures` entry).
    @discardableResult
    func loadAll(_ paths: [String], configs: [String: [UInt8]], pinned: [String: PinnedLoad] = [:]) -> LoadAllOutcome {
        var outcome = LoadAllOutcome()
        var images: [(image: PluginImage, offer: String)] = []
        var settled: Set<String> = []  // pinned ids tried (loaded or failed)
        let byOffer = Dictionary(pinned.map { (PathTrust.lexicallyNormalized($0.value.offer), $0.key) }, uniquingKeysWith: { first, _ in first })
        /// The pinned copy of `id`, or nil (none, or it failed: a `pinFailures` entry). A module
        /// `--disable` leaves out is thrown as such (skipped, the pin kept).
        func openPinned(_ id: String) throws(LoadError) -> PluginImage? {
            guard let pin = pinned[id], !settled.contains(id) else { return nil }
            settled.insert(id)
            do throws(LoadError) {
                let image = try openPlugin(pin.copy, id: id, as: pin.file, fingerprint: pin.fileFingerprint)
                guard image.descriptor.id == id else {
                    discard(image)
                    throw LoadError.badDescriptor("the pinned copy \(pin.copy) holds module \(image.descriptor.id), not \(id)")
                }
                outcome.pinned.insert(id)
                return image
            } catch .disabled(let what, let option) {
                throw .disabled(what: what, option: option)
            } catch {
                outcome.pinFailures.append((id, error))
                return nil
            }
        }
        /// Opens one file with `open` (nil: nothing to load, the reason recorded already).
        func add(_ path: String, offer: String, _ open: () throws(LoadError) -> PluginImage?) {
            do {
                guard let image = try open() else { return }
                if slot(image.descriptor.id) != nil || images.contains(where: { $0.image.descriptor.id == image.descriptor.id }) {
                    discard(image)
                    throw LoadError.duplicateID(image.descriptor.id)
                }
                images.append((image, offer))
            } catch LoadError.disabled(let what, let option) {
                // Not an error: the user asked for it. A file is named once, a module by its id.
                runtime.logger.info("skipped \(LogText.quote(path, keep: .tail)): \(LogText.line("\(what == option ? "" : "\(what) is ")disabled by --disable \(option)"))")
            } catch let error as LoadError {
                outcome.failures.append((path, error))
            } catch {
                outcome.failures.append((path, .dlopenFailed("\(error)")))
            }
        }
        for path in paths {
            add(path, offer: path) { () throws(LoadError) in
                if let id = byOffer[PathTrust.lexicallyNormalized(path)], let image = try openPinned(id) { return image }
                let image = try openPlugin(path)
                do throws(LoadError) {
                    if let pinnedImage = try openPinned(image.descriptor.id) {
                        discard(image)
                        return pinnedImage
                    }
                } catch {
                    discard(image)
                    throw error
                }
                return image
            }
        }
        for id in pinned.keys.sorted() where !settled.contains(id) {
            add(pinned[id]!.copy, offer: pinned[id]!.offer) { () throws(LoadError) in
                try openPinned(id)
            }
        }
        let running = runningVersions()
        let (order, unmet) = DependencyOrder.resolve(images.map(\.image.descriptor), running: running)
        for failure in unmet {
            let image = images.first { $0.image.descriptor.id == failure.id }!.image
            discard(image)
            outcome.failures.append((image.file, failure.error))
        }
        var started = Set(running.keys)
        for id in order {
            let (image, offer) = images.first { $0.image.descriptor.id == id }!
            if let missing = image.descriptor.requires.first(where: { !started.contains($0.id) }) {
                discard(image)
                outcome.failures.append((image.file, .unmetRequirement(module: id, "\(missing.id), which failed to start")))
                continue
            }
            do throws(LoadError) {
                try start(image, config: configs[id] ?? Array("{}".utf8), offer: offer)
                started.insert(id)
            } catch {
                outcome.failures.append((image.file, error))
            }
        }
        outcome.pinned.formIntersection(started)
        return outcome
    }

    /// Loads one file at run time; what it requires must already be running. Without `config`,
    /// the module gets its section of the host's `--config` file.
    func load(_ path: String, config: [UInt8]?) throws(LoadError) -> ModuleInstance {
        let image = try openPlugin(path)
        let id = image.descriptor.id
        guard slot(id) == nil else {
            discard(image)
            throw .duplicateID(id)
        }
        let (_, unmet) = DependencyOrder.resolve([image.descriptor], running: runningVersions())
        if let failure = unmet.first {
            discard(image)
            throw failure.error
        }
        return try start(image, config: config ?? runtime.configModules.moduleConfig(id) ?? Array("{}".utf8), offer: path)
    }

    /// Unloads a module. Refused, naming them, while running modules require it, unless forced.
    func unload(_ id: String, force: Bool, drainTimeout: Duration) throws(RPCError) {
        guard let slot = slot(id), let instance = slot.instance else {
            throw .invalidParams("no module \"\(id)\" is loaded")
        }
        let dependents = entries.filter { entry in
            entry.instance.state == .running && entry.instance.descriptor.requires.contains { $0.id == id }
        }.map(\.instance.id)
        if !dependents.isEmpty && !force {
            throw RPCError(
                code: RPCError.refusedCode,
                message: "module \(id) is required by \(dependents.joined(separator: ", ")); unload those first or pass force: true",
                data: JSONObject.module(id))
        }
        state.withLock { state in
            state.slots[id] = nil
            state.order.removeAll { $0 == id }
            state.offers[id] = nil
        }
        retire(slot, instance, until: ContinuousClock.now + drainTimeout, reason: "it was unloaded")
        runtime.pins.remove(id)
        runtime.pins.clearRejection(id)
        runtime.metrics?.forget(module: id)
    }

    /// Stops every module in reverse start order (graceful shutdown), after letting queued and
    /// pending calls finish until `deadline`: one drain for the whole shutdown, however many
    /// modules are stuck.
    /// Shutdown has begun (`beginClosing`): loads are refused, gates do nothing.
    var isClosing: Bool { state.withLock { $0.closing } }

    /// The first step of shutdown, before anything waits: from now on nothing is loaded (a
    /// reload or a swap that comes late fails) and gates stop deciding.
    func beginClosing() {
        state.withLock { $0.closing = true }
    }

    func shutdown(until deadline: ContinuousClock.Instant) {
        // Until a pass finds every module quiet: a reply or an event of one can wake another.
        var quiet = false
        while !quiet, ContinuousClock.now < deadline {
            quiet = true
            for entry in entries where !entry.slot.mailbox.isIdle || entry.slot.openCalls.count > 0 {
                quiet = false
                _ = entry.slot.mailbox.waitUntilIdle(until: deadline)
                _ = entry.slot.openCalls.waitForNone(until: deadline)
            }
        }
        for entry in entries.reversed() {
            state.withLock { state in
                state.slots[entry.slot.id] = nil
                state.order.removeAll { $0 == entry.slot.id }
            }
            retire(entry.slot, entry.instance, until: deadline, lastChance: .milliseconds(10), reason: "the host is shutting down")
        }
    }

    func runningVersions() -> [String: SemanticVersion] {
        var versions: [String: SemanticVersion] = [:]
        for entry in entries where entry.instance.state == .running {
            versions[entry.instance.id] = SemanticVersion(entry.instance.descriptor.version)
        }
        return versions
    }

    /// Opens a plugin file, unless `--disable` leaves it out: a disabled file is not opened at
    /// all, a disabled module is refused once its descriptor is read (before `init`). Opening
    /// runs as a crash frame, so a crash in the library's constructors or `mh_plugin_entry`
    /// names the file. `id`, when known (a swap, a shadow), names the private copy (`open`).
    /// `file`, when given, is the path the image is known by (a pinned copy's original file).
    func openPlugin(_ path: String, id: String? = nil, as file: String? = nil, fingerprint: FileFingerprint? = nil) throws(LoadError) -> PluginImage {
        guard !isClosing else { throw .shuttingDown }
        let disabled = runtime.configuration.disabled
        for candidate in [path, file].compactMap({ $0 }) where disabled.disables(file: candidate) {
            let resolved = DisabledModules.resolve(candidate)
            throw .disabled(what: resolved, option: resolved)
        }
        let image = try CrashReport.loading(DisabledModules.resolve(path)) { () throws(LoadError) in try open(path, id: id, as: file, fingerprint: fingerprint) }
        let id = image.descriptor.id
        if disabled.disables(module: id) {
            discard(image)
            throw .disabled(what: "module \(id)", option: id)
        }
        return image
    }

    /// Creates, initializes and starts an instance of `image` in a new slot.
    @discardableResult
    private func start(_ image: PluginImage, config: [UInt8], offer: String) throws(LoadError) -> ModuleInstance {
        let id = image.descriptor.id
        let generation = nextGeneration(id)
        let slot = ModuleSlot(id: id, concurrent: image.descriptor.isConcurrent, maxResultBytes: runtime.configuration.maxResultBytes)
        let context = ModuleContext(runtime: runtime, moduleID: id, slot: slot, dataDirectory: runtime.dataDirectory(for: id))
        let instance = ModuleInstance(image: image, generation: generation, context: context, config: config)
        // Timers and replies that arrive while init/start run wait until the module is up.
        slot.mailbox.pause()
        slot.instance = instance
        do throws(LoadError) {
            try instance.initialize()
            do throws(LoadError) {
                try instance.start()
            } catch {
                instance.destroy()
                throw error
            }
        } catch {
            instance.context.endActivity()
            slot.mailbox.close()
            slot.instance = nil
            releaseImage(of: instance)
            throw error
        }
        let registered = state.withLock { state -> Bool in
            // Shutdown began while it started (a load queued before it, still in init or start
            // at the drain deadline): the shutdown would not see it, so it never serves.
            guard !state.closing else { return false }
            state.slots[id] = slot
            state.order.append(id)
            state.offers[id] = offer
            return true
        }
        guard registered else {
            instance.destroy()
            slot.mailbox.close()
            slot.instance = nil
            releaseImage(of: instance)
            throw .shuttingDown
        }
        slot.mailbox.resume()
        runtime.logger.info("loaded \(id) \(image.descriptor.version) from \(LogText.quote(image.file, keep: .tail)) (generation \(generation))")
        var event = JSONObject()
        event.add("id", id)
        event.add("version", image.descriptor.version)
        event.add("generation", generation)
        event.add("file", image.file)
        runtime.events.publish(topic: "modules.loaded", data: event.result)
        return instance
    }

    /// Tears down an instance that is no longer routed to. Its queued calls fail with `-32001`;
    /// calls already handed to it (pending ones, and one still running) get until `deadline` to
    /// complete, with replies and timers still delivered. Then it is stopped and destroyed, and
    /// its image unmapped if it may be. A plugin stuck in a call past the deadline is abandoned
    /// (after a `lastChance` to return): never called again, its image left mapped, its calls
    /// failed.
    private func retire(_ slot: ModuleSlot, _ instance: ModuleInstance, until deadline: ContinuousClock.Instant,
                        lastChance: Duration = .milliseconds(100), reason: String) {
        slot.mailbox.pause(timeout: max(deadline - ContinuousClock.now, .zero))
        slot.mailbox.holdCalls()
        slot.mailbox.resume()
        _ = slot.openCalls.waitForNone(until: deadline)
        let idle = slot.mailbox.pause(timeout: max(deadline - ContinuousClock.now, lastChance))
        defer {
            for call in CallTable.shared.takeAll(of: slot) {
                call.finish(error: .moduleUnavailable(slot.id, reason))
            }
            slot.instance = nil
            // The generation kept for rollback goes too, and a shadow.
            discardShadow(of: slot)
            discardCanary(of: slot)
            if let previous = slot.takePrevious() {
                previous.destroy()
                releaseImage(of: previous)
            }
        }
        guard idle else {
            // The stuck call may be in the serving instance or in a canary (both run from this
            // mailbox): neither is stopped, destroyed or unmapped while it may still run.
            slot.mailbox.close()
            abandon(instance)
            if let canary = slot.canary {
                slot.canary = nil
                abandon(canary.instance)
            }
            runtime.logger.error("abandoned \(slot.id): a call did not return within the drain timeout (--drain-timeout-ms); the instance is never called again and its image stays mapped")
            return
        }
        instance.stop()
        slot.mailbox.close()
        instance.destroy()
        releaseImage(of: instance)
        runtime.logger.info("unloaded \(slot.id) (\(reason))")
        var event = JSONObject()
        event.add("id", slot.id)
        event.add("version", instance.descriptor.version)
        event.add("reason", reason)
        runtime.events.publish(topic: "modules.unloaded", data: event.result)
    }

    /// Gives up on an instance that may still be running a call: it is never called again, and
    /// it is neither stopped, destroyed nor unmapped (its code may be on a thread's stack).
    func abandon(_ instance: ModuleInstance) {
        instance.state = .failed
        instance.image.keepMapped()  // whoever else uses the image (a promoted shadow's) never unmaps it
        instance.context.endActivity()
        // Its threads may still run: from now on the host table answers them MH_EXPIRED, so
        // they cannot write into the store or the events a reloaded instance shares.
        instance.context.retire()
        state.withLock { $0.retiredImages += 1 }
    }

    /// Opens `path` through the loader, telling it the generation this load will most likely
    /// get, for the private copy's name: the next generation of `id` when it is known (a swap,
    /// a shadow), else of the module last opened from that path, else 1. A hint only: the
    /// generation taken when the instance is made (`nextGeneration`) is the truth.
    private func open(_ path: String, id: String?, as file: String?, fingerprint: FileFingerprint?) throws(LoadError) -> PluginImage {
        let generation = state.withLock { state in
            (id ?? state.idByFile[path]).map { state.generations[$0, default: 0] + 1 } ?? 1
        }
        let image = try loader.open(path, generation: generation, as: file, fingerprint: fingerprint)
        state.withLock { $0.idByFile[path] = image.descriptor.id }
        return image
    }

    /// The next generation number for `id` (1 for its first load).
    func nextGeneration(_ id: String) -> Int {
        state.withLock { state in
            state.generations[id, default: 0] += 1
            return state.generations[id]!
        }
    }

    /// Unmaps a destroyed instance's image if it may be; otherwise counts it as retired.
    func releaseImage(of instance: ModuleInstance) {
        discard(instance.image)
    }

    /// Unmaps an image no instance uses (refused, or retired) if it may be; otherwise it stays
    /// mapped for good and is counted in `host.status`'s `retiredImages`.
    func discard(_ image: PluginImage) {
        image.closeCopy()
        if !image.unloadIfAllowed() {
            state.withLock { $0.retiredImages += 1 }
        }
    }
}
