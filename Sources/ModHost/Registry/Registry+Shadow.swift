import ModHostJSON

/// Shadow mode (`modules.swap {..., mode: "shadow"}`), from the safe-migration seed: run the new
/// version beside the serving one, compare, then promote or discard.
extension Registry {
    struct ShadowStarted: Encodable, Sendable {
        let id: String
        let mode = "shadow"
        let serving: String
        let shadow: String
        let generation: Int
        let stateBytes: Int
        let pauseMicros: Int
    }

    /// Loads `path` as a shadow of module `id`, seeded with the serving instance's state.
    func startShadow(_ id: String, path: String, config: [UInt8]?, compare: JSONValue? = nil, keepSamples: Int? = nil,
                     gates: JSONValue? = nil, drainTimeout: Duration) throws(RPCError) -> ShadowStarted {
        let (slot, serving) = try runningWithoutChange(id)
        var gate: GateWatch?
        if let gates, !gates.isNull { gate = GateWatch(spec: try GateSpec(gates, canary: false)) }
        let comparison = try ShadowComparison(
            compare: compare, keepSamples: keepSamples,
            declared: Set(serving.descriptor.methods.keys).union(serving.descriptor.exports.keys), module: id)
        let shadowSlot = ModuleSlot(id: id, concurrent: false, maxResultBytes: slot.maxResultBytes, deferrable: false)
        let shadow: ModuleInstance
        do {
            shadow = try prepare(id, path: path, config: config ?? serving.config, slot: shadowSlot, shadow: true)
        } catch {
            throw failed(id, path: path, error.description)
        }
        shadowSlot.mailbox.setConcurrent(shadow.descriptor.isConcurrent)
        shadowSlot.instance = shadow
        do {
            // The serving instance is stopped only to export its state (the ABI exports after
            // stop), then started again; calls are held meanwhile.
            let (stateBytes, pause) = try whileQuiesced(slot, drainTimeout: drainTimeout) { () throws(SwapFailure) -> Int in
                serving.stop()
                defer { restart(serving) }
                let state = try serving.exportState()
                try shadow.importState(state, from: serving.descriptor.version)
                do throws(LoadError) {
                    try shadow.start()
                } catch {
                    throw SwapFailure(error.description)
                }
                slot.shadow = Shadow(instance: shadow, slot: shadowSlot, comparison: comparison, gate: gate)
                return state.count
            }
            let started = ShadowStarted(
                id: id, serving: serving.descriptor.version, shadow: shadow.descriptor.version, generation: shadow.generation,
                stateBytes: stateBytes, pauseMicros: pause)
            announce("modules.shadow_started", started, file: path)
            if let gate { watch(id, gate: gate) }
            return started
        } catch {
            discard(shadow, in: shadowSlot, releaseImage: true)
            throw failed(id, path: path, error.description)
        }
    }

    /// `modules.promote`: the shadow's version takes over, exactly as a swap would (the serving
    /// instance's state moves to a fresh instance of the shadow's image); the shadow goes.
    func promote(_ id: String, drainTimeout: Duration, chosenBy: String = "promote") throws(RPCError) -> SwapOutcome {
        if let slot = slot(id), slot.canary != nil { return try promoteCanary(slot, drainTimeout: drainTimeout, chosenBy: chosenBy) }
        guard let slot = slot(id), let serving = slot.instance, let shadow = slot.shadow else {
            throw RPCError(code: RPCError.refusedCode, message: "module \(id) has no shadow to promote", data: JSONObject.module(id))
        }
        // The serving module drains first, with the shadow still there: a drain timeout leaves
        // everything as it was (a gate tries again). Then, with the module quiet, the shadow goes
        // and a fresh instance of its image takes the serving state.
        let image = shadow.instance.image
        var made: ModuleInstance?
        do {
            return try commit(slot, from: serving, file: image.file, drainTimeout: drainTimeout, chosenBy: chosenBy) { () throws(SwapFailure) in
                slot.shadow = nil
                discard(shadow.instance, in: shadow.slot, releaseImage: false)
                let fresh = try initialized(image, id: id, config: shadow.instance.config, slot: slot)
                made = fresh
                return fresh
            }
        } catch {
            if let made {
                made.destroy()
                releaseImage(of: made)
            }
            throw failed(id, path: image.file, error.description)
        }
    }

    /// Drops the shadow of `slot`, if any (rollback, unload). Returns the shadow's version.
    @discardableResult
    func discardShadow(of slot: ModuleSlot) -> String? {
        guard let shadow = slot.shadow else { return nil }
        slot.shadow = nil
        discard(shadow.instance, in: shadow.slot, releaseImage: true)
        runtime.logger.info("discarded the shadow of \(slot.id) (\(shadow.instance.descriptor.version))")
        return shadow.instance.descriptor.version
    }

    private func discard(_ instance: ModuleInstance, in slot: ModuleSlot, releaseImage release: Bool) {
        let idle = slot.mailbox.pause(timeout: .seconds(5))
        if idle { instance.stop() }
        slot.mailbox.close()
        for call in CallTable.shared.takeAll(of: slot) {
            call.finish(error: .moduleUnavailable(slot.id, "its shadow was discarded"))
        }
        slot.instance = nil
        guard idle else {
            // A shadow call still runs in it: never called again, its image stays mapped.
            abandon(instance)
            runtime.logger.error("abandoned the shadow of \(slot.id): a call did not return within 5 s; its image stays mapped")
            return
        }
        instance.destroy()
        if release { releaseImage(of: instance) }
    }
}
