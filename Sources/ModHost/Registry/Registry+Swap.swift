import Foundation
import ModHostSupport

/// Hot swap: replacing a running module's instance without a restart, and going back.
///
/// Every change goes through `transfer`: new calls are held in order while calls already handed
/// to the old instance finish (replies and timers still flow), then the old instance is stopped,
/// its state exported and imported into the new one, the new one started and made current, and
/// the held calls run on it. Any failure before the commit starts the old instance again, so
/// the module keeps serving and no call is lost either way.
extension Registry {
    /// What a swap, rollback or promotion did; the result of the method that asked for it.
    struct SwapOutcome: Encodable, Sendable {
        let id: String
        let from: String
        let to: String
        let generation: Int
        let stateBytes: Int
        /// How long new calls were held, in microseconds.
        let pauseMicros: Int
        /// Where the pause went: draining calls in progress (and the rest of the hand-over),
        /// the plugin's export_state, import_state and start, in microseconds.
        var steps = Steps()

        struct Steps: Encodable, Sendable {
            var drainMicros = 0
            var exportMicros = 0
            var importMicros = 0
            var startMicros = 0
        }
    }

    /// `modules.swap`: loads `path` as the next generation of module `id` and switches to it.
    func swap(_ id: String, path: String, config: [UInt8]?, drainTimeout: Duration) throws(RPCError) -> SwapOutcome {
        let (slot, old) = try runningWithoutChange(id)
        let fresh: ModuleInstance
        do {
            fresh = try prepare(id, path: path, config: config ?? old.config, slot: slot)
        } catch {
            throw failed(id, path: path, error.description)
        }
        return try commit(slot, from: old, to: fresh, file: path, drainTimeout: drainTimeout)
    }

    /// Transfers to `fresh` and keeps `old` for rollback; on failure discards `fresh`.
    /// `chosenBy` names the change for the pin (`Pins`): "swap" or "promote".
    func commit(_ slot: ModuleSlot, from old: ModuleInstance, to fresh: ModuleInstance, file: String, drainTimeout: Duration,
                chosenBy: String = "swap") throws(RPCError) -> SwapOutcome {
        do {
            return try commit(slot, from: old, file: file, drainTimeout: drainTimeout, chosenBy: chosenBy) { () throws(SwapFailure) in fresh }
        } catch {
            fresh.destroy()
            releaseImage(of: fresh)
            throw failed(slot.id, path: file, error.description)
        }
    }

    /// Transfers to the instance `make` returns, made once the module is quiet (see `transfer`),
    /// and keeps `old` for rollback. On failure the caller disposes of what `make` made.
    func commit(_ slot: ModuleSlot, from old: ModuleInstance, file: String, drainTimeout: Duration, chosenBy: String,
                making make: () throws(SwapFailure) -> ModuleInstance) throws(SwapFailure) -> SwapOutcome {
        let (outcome, fresh) = try transfer(slot, from: old, drainTimeout: drainTimeout, making: make)
        if let displaced = slot.keepPrevious(old) {
            displaced.destroy()
            releaseImage(of: displaced)
        }
        pinChosen(slot.id, fresh, by: chosenBy)
        announce("modules.swapped", outcome, file: file)
        return outcome
    }

    /// `modules.rollback`: switches back to the generation the last swap replaced, carrying the
    /// state back, and discards the newer one.
    func rollback(_ id: String, drainTimeout: Duration) throws(RPCError) -> SwapOutcome {
        let (slot, current) = try running(id)
        if slot.canary != nil { return try rollbackCanary(slot, drainTimeout: drainTimeout) }
        if let shadowFile = slot.shadow?.instance.image.file, let shadowVersion = discardShadow(of: slot) {
            runtime.pins.reject(id, file: shadowFile)
            // Rolling back a shadow discards it; the serving generation never changed.
            return SwapOutcome(id: id, from: shadowVersion, to: current.descriptor.version, generation: current.generation,
                               stateBytes: 0, pauseMicros: 0)
        }
        guard let previous = slot.previous else {
            throw RPCError(code: RPCError.refusedCode, message: "module \(id) has no previous generation to roll back to",
                           data: JSONObject.module(id))
        }
        do {
            let outcome = try transfer(slot, from: current, to: previous, drainTimeout: drainTimeout)
            _ = slot.takePrevious()
            current.destroy()
            releaseImage(of: current)
            pinChosen(id, previous, by: "rollback")
            announce("modules.swapped", outcome, file: previous.image.file)
            return outcome
        } catch {
            throw failed(id, path: previous.image.file, error.description)
        }
    }

    /// The slot and serving instance of a running module, or -32602.
    func running(_ id: String) throws(RPCError) -> (ModuleSlot, ModuleInstance) {
        guard let slot = slot(id), let instance = slot.instance, instance.state == .running else {
            throw .invalidParams("no module \"\(id)\" is running")
        }
        return (slot, instance)
    }

    /// As `running`, refusing (-32005) a module that has a shadow or a canary: one change at a time.
    func runningWithoutChange(_ id: String) throws(RPCError) -> (ModuleSlot, ModuleInstance) {
        let (slot, instance) = try running(id)
        guard slot.shadow == nil else {
            throw RPCError(code: RPCError.refusedCode, message: "module \(id) has a shadow; promote or roll it back first",
                           data: JSONObject.module(id))
        }
        if let canary = slot.canary {
            throw RPCError(code: RPCError.refusedCode,
                           message: "module \(id) has a canary (\(canary.instance.descriptor.version) at \(canary.percent)%); step it to 100 (modules.canary) or roll it back first",
                           data: JSONObject.module(id))
        }
        return (slot, instance)
    }

    /// Opens and initializes the next generation of `id` from `path`, checking that it is the
    /// same module and that requirements hold both ways. A shadow gets an isolated context.
    func prepare(_ id: String, path: String, config: [UInt8], slot: ModuleSlot, shadow: Bool = false) throws(SwapFailure) -> ModuleInstance {
        let image: PluginImage
        do {
            image = try openPlugin(path, id: id)
        } catch {
            throw SwapFailure("cannot load \(path): \(error)")
        }
        let descriptor = image.descriptor
        do throws(SwapFailure) {
            guard descriptor.id == id else { throw SwapFailure("\(path) holds module \(descriptor.id), not \(id)") }
            var running = runningVersions()
            running[id] = nil
            if let unmet = DependencyOrder.resolve([descriptor], running: running).failures.first {
                throw SwapFailure(unmet.error.description)
            }
            let version = SemanticVersion(descriptor.version)!
            for entry in entries where entry.instance.id != id && entry.instance.state == .running {
                for requirement in entry.instance.descriptor.requires where requirement.id == id && !requirement.isSatisfied(by: version) {
                    throw SwapFailure("module \(entry.instance.id) requires \"\(requirement)\", which \(id) \(descriptor.version) does not satisfy")
                }
            }
        } catch {
            discard(image)
            throw error
        }
        return try initialized(image, id: id, config: config, slot: slot, shadow: shadow)
    }

    /// The next generation of `id` from an image already open and checked, initialized (not
    /// started); a failed `init` releases the image.
    func initialized(_ image: PluginImage, id: String, config: [UInt8], slot: ModuleSlot, shadow: Bool = false) throws(SwapFailure) -> ModuleInstance {
        let context = ModuleContext(runtime: runtime, moduleID: id, slot: slot, dataDirectory: runtime.dataDirectory(for: id), shadow: shadow)
        let instance = ModuleInstance(image: image, generation: nextGeneration(id), context: context, config: config)
        do throws(LoadError) {
            try instance.initialize()
        } catch {
            context.endActivity()
            releaseImage(of: instance)
            throw SwapFailure(error.description)
        }
        return instance
    }

    /// Moves module `slot` from `old` to `new` (initialized, not started); see the type's notes.
    func transfer(_ slot: ModuleSlot, from old: ModuleInstance, to new: ModuleInstance, drainTimeout: Duration) throws(SwapFailure) -> SwapOutcome {
        try transfer(slot, from: old, drainTimeout: drainTimeout) { () throws(SwapFailure) in new }.outcome
    }

    /// As `transfer(_:from:to:)`, to the instance `make` returns once the module is quiet (calls
    /// drained, so a drain timeout fails the change before `make` runs). A failure of `make`
    /// leaves `old` serving, untouched.
    func transfer(_ slot: ModuleSlot, from old: ModuleInstance, drainTimeout: Duration,
                  making make: () throws(SwapFailure) -> ModuleInstance) throws(SwapFailure) -> (outcome: SwapOutcome, instance: ModuleInstance) {
        var steps = SwapOutcome.Steps()
        let ((stateBytes, new), pause) = try whileQuiesced(slot, drainTimeout: drainTimeout) { () throws(SwapFailure) -> (Int, ModuleInstance) in
            var clock = Stopwatch()
            steps.drainMicros = clock.lap()  // from the hold to here is in `pause`; this marks the body's start
            let new = try make()
            old.stop()
            do throws(SwapFailure) {
                let state = try old.exportState()
                steps.exportMicros = clock.lap()
                try new.importState(state, from: old.descriptor.version)
                steps.importMicros = clock.lap()
                try start(new)
                steps.startMicros = clock.lap()
                slot.mailbox.setConcurrent(new.descriptor.isConcurrent)
                slot.instance = new
                return (state.count, new)
            } catch {
                restart(old)
                throw error
            }
        }
        steps.drainMicros = pause - steps.exportMicros - steps.importMicros - steps.startMicros
        let outcome = SwapOutcome(
            id: slot.id, from: old.descriptor.version, to: new.descriptor.version, generation: new.generation,
            stateBytes: stateBytes, pauseMicros: pause, steps: steps)
        return (outcome, new)
    }

    /// Runs `body` with module `slot` quiet: new calls held in order, calls already handed over
    /// finished (replies and timers still run meanwhile), nothing running. Afterwards, whatever
    /// happened, the held calls are released to whichever instance is then current.
    /// Returns `body`'s result and how long calls were held, in microseconds.
    func whileQuiesced<T>(_ slot: ModuleSlot, drainTimeout: Duration, _ body: () throws(SwapFailure) -> T) throws(SwapFailure) -> (T, Int) {
        let mailbox = slot.mailbox
        let started = ContinuousClock.now
        let deadline = started + drainTimeout
        guard mailbox.pause(timeout: drainTimeout) else {
            mailbox.resume()
            throw SwapFailure("drain timeout: a call to \(slot.id) was still running after \(drainTimeout)")
        }
        mailbox.holdCalls()
        mailbox.resume()
        runtime.logger.info("\(slot.id): holding new calls while its instance changes")
        defer {
            mailbox.pause()
            mailbox.releaseCalls()
            mailbox.resume()
        }
        guard slot.openCalls.waitForNone(until: deadline) else {
            throw SwapFailure("drain timeout: \(slot.openCalls.count) call(s) to \(slot.id) still pending after \(drainTimeout)")
        }
        guard mailbox.pause(timeout: max(deadline - ContinuousClock.now, .milliseconds(10))) else {
            throw SwapFailure("drain timeout: a callback of \(slot.id) was still running after \(drainTimeout)")
        }
        let result = try body()
        return (result, Int((ContinuousClock.now - started).seconds * 1_000_000))
    }

    private func start(_ instance: ModuleInstance) throws(SwapFailure) {
        do throws(LoadError) {
            try instance.start()
        } catch {
            throw SwapFailure(error.description)
        }
    }

    /// Starts an instance that was stopped for a change that then failed.
    func restart(_ instance: ModuleInstance) {
        do throws(LoadError) {
            try instance.start()
        } catch {
            runtime.logger.critical("\(instance.id): the old instance did not start again after a failed change: \(error)")
        }
    }

    func failed(_ id: String, path: String, _ reason: String) -> RPCError {
        runtime.logger.error("swap of \(LogText.quote(id)) failed: \(reason)")
        var data = JSONObject()
        data.add("id", id)
        data.add("file", path)
        data.add("reason", reason)
        runtime.events.publish(topic: "modules.swap_failed", data: data.result)
        return .swapFailed(id, reason)
    }

    /// Publishes a swap's outcome and logs it. The outcome holds only what the host made or
    /// checked (a loaded module's id, semantic versions, numbers); the file is outside text.
    func announce(_ topic: String, _ outcome: some Encodable & Sendable, file: String) {
        if let data = try? HostParams.encode(outcome) {
            runtime.logger.info("\(topic) from \(LogText.quote(file, keep: .tail)): \(String(decoding: data, as: UTF8.self))")
            runtime.events.publish(topic: topic, data: data)
        }
    }
}

/// Microseconds between laps on the monotonic clock.
struct Stopwatch {
    private var last = ContinuousClock.now

    mutating func lap() -> Int {
        let now = ContinuousClock.now
        defer { last = now }
        return Int((now - last).seconds * 1_000_000)
    }
}
