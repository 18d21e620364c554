import ModHostJSON

/// Canary mode (`modules.swap {..., mode: "canary", percent, stickyKey}`, `modules.canary`), from
/// the safe-migration seed: a new generation serves a share of the real calls beside the old
/// one; stepping it to 100 promotes it, to 0 (or `modules.rollback`) ends it. See `Canary`.
extension Registry {
    struct CanaryState: Encodable, Sendable {
        let id: String
        let mode = "canary"
        let serving: String
        let canary: String
        let generation: Int
        let percent: Int
        let stickyKey: String?
        let stateBytes: Int
        let pauseMicros: Int
    }

    /// Loads `path` as a canary of module `id` at `percent` (1 to 99), seeded with the serving
    /// instance's state. Refused (-32005) unless both generations declare `MH_FLAG_MULTI_INSTANCE`.
    func startCanary(_ id: String, path: String, config: [UInt8]?, percent: Int, stickyKey: String?, gates: JSONValue? = nil,
                     drainTimeout: Duration) throws(RPCError) -> CanaryState {
        guard (1...99).contains(percent) else {
            throw RPCError.invalidParams("\"percent\" must be 1 to 99 to start a canary, got \(percent); for all calls use a plain swap")
        }
        var gate: GateWatch?
        if let gates, !gates.isNull {
            // A canary's gate reads both generations' call metrics.
            guard runtime.metrics != nil else {
                throw RPCError(code: RPCError.refusedCode,
                               message: "gates on a canary need call metrics, and the host was started with --no-metrics; restart it without that option, or start the canary without gates",
                               data: JSONObject.module(id))
            }
            gate = GateWatch(spec: try GateSpec(gates, canary: true))
        }
        let (slot, serving) = try runningWithoutChange(id)
        guard serving.descriptor.allowsTwoInstances else { throw Self.singleInstance(id, serving.descriptor.version, serving: true) }
        let canary: ModuleInstance
        do {
            canary = try prepare(id, path: path, config: config ?? serving.config, slot: slot)
        } catch {
            throw failed(id, path: path, error.description)
        }
        let plan: Canary
        do throws(RPCError) {
            guard canary.descriptor.allowsTwoInstances else { throw Self.singleInstance(id, canary.descriptor.version, serving: false) }
            plan = try Canary(instance: canary, percent: percent, stickyKey: stickyKey, gate: gate)
        } catch {
            canary.destroy()
            releaseImage(of: canary)
            throw error
        }
        do {
            let (stateBytes, pause) = try whileQuiesced(slot, drainTimeout: drainTimeout) { () throws(SwapFailure) -> Int in
                // The serving instance stops only to export its state (the ABI exports after stop).
                serving.stop()
                defer { restart(serving) }
                let state = try serving.exportState()
                try canary.importState(state, from: serving.descriptor.version)
                do throws(LoadError) {
                    try canary.start()
                } catch {
                    throw SwapFailure(error.description)
                }
                slot.mailbox.setConcurrent(serving.descriptor.isConcurrent && canary.descriptor.isConcurrent)
                slot.canary = plan
                // A gate's first window counts from here (the serving side's earlier calls excluded).
                gate?.windowStart = plan.gateFigures(serving: serving)
                return state.count
            }
            let started = CanaryState(
                id: id, serving: serving.descriptor.version, canary: canary.descriptor.version, generation: canary.generation,
                percent: percent, stickyKey: stickyKey, stateBytes: stateBytes, pauseMicros: pause)
            announce("modules.canary_started", started, file: path)
            if let gate { watch(id, gate: gate) }
            return started
        } catch {
            canary.destroy()
            releaseImage(of: canary)
            throw failed(id, path: path, error.description)
        }
    }

    /// What `modules.canary` did: the share now, or how the canary ended.
    struct CanaryStep: Encodable, Sendable {
        let id: String
        let percent: Int
        /// The version serving the calls the canary does not take (after a promotion: the
        /// canary's).
        let serving: String
        /// The canary's version while it runs; nil once it ended.
        let canary: String?
        let generation: Int
        /// "promoted" (100) or "rolled_back" (0); nil for a step.
        let ended: String?
        let pauseMicros: Int
    }

    /// `modules.canary {id, percent}`: 1 to 99 sets the share; 100 promotes; 0 rolls back.
    func stepCanary(_ id: String, percent: Int, drainTimeout: Duration) throws(RPCError) -> CanaryStep {
        guard (0...100).contains(percent) else {
            throw RPCError.invalidParams("\"percent\" must be 0 (roll back) to 100 (promote), got \(percent)")
        }
        let (slot, serving) = try running(id)
        guard let canary = slot.canary else {
            throw RPCError(code: RPCError.refusedCode, message: "module \(id) has no canary; start one with modules.swap {mode: \"canary\"}",
                           data: JSONObject.module(id))
        }
        switch percent {
        case 100:
            let outcome = try promoteCanary(slot, drainTimeout: drainTimeout)
            return CanaryStep(id: id, percent: 100, serving: outcome.to, canary: nil, generation: outcome.generation, ended: "promoted",
                              pauseMicros: outcome.pauseMicros)
        case 0:
            let outcome = try rollbackCanary(slot, drainTimeout: drainTimeout)
            return CanaryStep(id: id, percent: 0, serving: outcome.to, canary: nil, generation: outcome.generation, ended: "rolled_back",
                              pauseMicros: outcome.pauseMicros)
        default:
            canary.percent = percent
            // A gate judges the new share from here: a new window of `minCalls` calls.
            if let gate = canary.gate { gate.windowStart = canary.gateFigures(serving: serving) }
            runtime.logger.info("\(id): canary \(canary.instance.descriptor.version) now takes \(percent)% of calls")
            return CanaryStep(id: id, percent: percent, serving: serving.descriptor.version, canary: canary.instance.descriptor.version,
                              generation: canary.instance.generation, ended: nil, pauseMicros: 0)
        }
    }

    /// The canary takes every call: it becomes the serving instance as it is (its memory is its
    /// own; the store is shared), and the old one is stopped and kept for `modules.rollback`.
    func promoteCanary(_ slot: ModuleSlot, drainTimeout: Duration, chosenBy: String = "promote") throws(RPCError) -> SwapOutcome {
        guard let canary = slot.canary, let serving = slot.instance else {
            throw RPCError(code: RPCError.refusedCode, message: "module \(slot.id) has no canary to promote", data: JSONObject.module(slot.id))
        }
        let fresh = canary.instance
        do {
            let (_, pause) = try whileQuiesced(slot, drainTimeout: drainTimeout) { () throws(SwapFailure) in
                serving.stop()
                slot.mailbox.setConcurrent(fresh.descriptor.isConcurrent)
                slot.instance = fresh
                slot.canary = nil
            }
            if let displaced = slot.keepPrevious(serving) {
                displaced.destroy()
                releaseImage(of: displaced)
            }
            pinChosen(slot.id, fresh, by: chosenBy)
            let outcome = SwapOutcome(id: slot.id, from: serving.descriptor.version, to: fresh.descriptor.version,
                                      generation: fresh.generation, stateBytes: 0, pauseMicros: pause)
            announce("modules.swapped", outcome, file: fresh.image.file)
            return outcome
        } catch {
            throw failed(slot.id, path: fresh.image.file, error.description)
        }
    }

    /// Ends the canary: the old generation takes every call again; the canary is discarded.
    func rollbackCanary(_ slot: ModuleSlot, drainTimeout: Duration) throws(RPCError) -> SwapOutcome {
        guard let canary = slot.canary, let serving = slot.instance else {
            throw RPCError(code: RPCError.refusedCode, message: "module \(slot.id) has no canary to roll back", data: JSONObject.module(slot.id))
        }
        do {
            let (_, pause) = try whileQuiesced(slot, drainTimeout: drainTimeout) { () throws(SwapFailure) in
                slot.canary = nil
                canary.instance.stop()
                slot.mailbox.setConcurrent(serving.descriptor.isConcurrent)
            }
            canary.instance.destroy()
            releaseImage(of: canary.instance)
            let outcome = SwapOutcome(id: slot.id, from: canary.instance.descriptor.version, to: serving.descriptor.version,
                                      generation: serving.generation, stateBytes: 0, pauseMicros: pause)
            runtime.pins.reject(slot.id, file: canary.instance.image.file)
            announce("modules.canary_ended", outcome, file: canary.instance.image.file)
            return outcome
        } catch {
            throw failed(slot.id, path: canary.instance.image.file, error.description)
        }
    }

    /// Drops the canary of a slot being retired (unload, shutdown): nothing is routed to it now.
    func discardCanary(of slot: ModuleSlot) {
        guard let canary = slot.canary else { return }
        slot.canary = nil
        canary.instance.stop()
        canary.instance.destroy()
        releaseImage(of: canary.instance)
    }

    private static func singleInstance(_ id: String, _ version: String, serving: Bool) -> RPCError {
        RPCError(
            code: RPCError.refusedCode,
            message: "module \(id) \(version)\(serving ? " (serving)" : "") does not declare MH_FLAG_MULTI_INSTANCE: a canary runs two generations at once, sharing one store, and this module has not said it can; use mode \"shadow\" or a plain swap",
            data: JSONObject.module(id))
    }
}
