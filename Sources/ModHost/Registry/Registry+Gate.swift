import Foundation
import ModHostJSON
import ModHostSupport

/// Gates (`gates {...}` on a shadow or canary): a check every `GateSpec.intervalMs` on the host
/// clock that promotes, steps up or rolls back on its own. See `GateSpec`.
extension Registry {
    /// What a gate did, published as `modules.gate_passed` or `modules.rolled_back`.
    struct GateEvent: Encodable, Sendable {
        let id: String
        let mode: String
        /// The generation the gate watched.
        let generation: Int
        let version: String
        /// "stepped", "promoted" or "rolled_back".
        let action: String
        /// A canary's share after the step.
        let percent: Int?
        let reason: String
        let metrics: GateFigures
        /// The report of the differing calls (a rollback only).
        let report: String?
    }

    /// Starts checking `gate` on module `id`'s shadow or canary.
    func watch(_ id: String, gate: GateWatch) {
        let manual = runtime.clock.isManual
        gate.timer = runtime.timers.startHost(delayMs: GateSpec.intervalMs, repeatMs: GateSpec.intervalMs) { [weak self] in
            guard let self else { return }
            // The manual clock is moved on the control queue (`clock.advance`): check right there,
            // so the advance returns with the decision made. The real clock's thread hands it on.
            if manual {
                self.check(id, gate)
            } else {
                self.runtime.control.async {
                    CrashReport.prepareThread()
                    self.check(id, gate)
                }
            }
        }
    }

    /// One check: waits, promotes (steps up), or rolls back.
    func check(_ id: String, _ gate: GateWatch) {
        guard let slot = slot(id), let serving = slot.instance else { return runtime.timers.cancelHost(gate.timer) }
        let now = runtime.clock.nowMs
        let drain = runtime.configuration.drainTimeout
        if let shadow = slot.shadow, shadow.gate === gate {
            let verdict = gate.spec.judge(shadow.gateFigures(), atMs: now)
            gate.last = verdict
            switch verdict.verdict {
            case .waiting:
                return
            case .passed:
                do throws(RPCError) {
                    _ = try promote(id, drainTimeout: drain, chosenBy: "gate")
                } catch {
                    // The timer goes on: the next check tries again.
                    return runtime.logger.error("\(id): the gate passed the shadow but its promotion failed (tried again at the next check): \(error.message)")
                }
                runtime.timers.cancelHost(gate.timer)
                publish(GateEvent(id: id, mode: "shadow", generation: shadow.instance.generation, version: shadow.instance.descriptor.version,
                                  action: "promoted", percent: nil, reason: verdict.reason, metrics: verdict.metrics, report: nil))
            case .failed:
                runtime.timers.cancelHost(gate.timer)
                discardShadow(of: slot)
                let report = writeReport(id, generation: shadow.instance.generation, gate)
                runtime.pins.reject(id, file: shadow.instance.image.file)
                rolledBack(GateEvent(id: id, mode: "shadow", generation: shadow.instance.generation, version: shadow.instance.descriptor.version,
                                     action: "rolled_back", percent: nil, reason: verdict.reason, metrics: verdict.metrics, report: report))
            }
        } else if let canary = slot.canary, canary.gate === gate {
            let figures = canary.gateFigures(serving: serving)
            let verdict = gate.spec.judge(figures.since(gate.windowStart), atMs: now)
            gate.last = verdict
            let generation = canary.instance.generation
            let version = canary.instance.descriptor.version
            switch verdict.verdict {
            case .waiting:
                return
            case .passed:
                let next = gate.spec.step(after: canary.percent)
                if next < 100 {
                    canary.percent = next
                    gate.windowStart = figures
                    runtime.logger.info("\(id): gate passed; canary \(version) now takes \(next)% of calls")
                    publish(GateEvent(id: id, mode: "canary", generation: generation, version: version, action: "stepped",
                                      percent: next, reason: verdict.reason, metrics: verdict.metrics, report: nil))
                    return
                }
                do throws(RPCError) {
                    _ = try promoteCanary(slot, drainTimeout: drain, chosenBy: "gate")
                } catch {
                    return runtime.logger.error("\(id): the gate passed the canary but its promotion failed (tried again at the next check): \(error.message)")
                }
                runtime.timers.cancelHost(gate.timer)
                publish(GateEvent(id: id, mode: "canary", generation: generation, version: version, action: "promoted",
                                  percent: 100, reason: verdict.reason, metrics: verdict.metrics, report: nil))
            case .failed:
                do throws(RPCError) {
                    _ = try rollbackCanary(slot, drainTimeout: drain)
                } catch {
                    // The canary still serves its share; the next check fails it again and retries.
                    return runtime.logger.error("\(id): the gate failed the canary but its rollback failed (tried again at the next check): \(error.message)")
                }
                runtime.timers.cancelHost(gate.timer)
                let report = writeReport(id, generation: generation, gate)
                rolledBack(GateEvent(id: id, mode: "canary", generation: generation, version: version, action: "rolled_back",
                                     percent: 0, reason: verdict.reason, metrics: verdict.metrics, report: report))
            }
        } else {
            // Promoted, rolled back or replaced by hand meanwhile.
            runtime.timers.cancelHost(gate.timer)
        }
    }

    private func rolledBack(_ event: GateEvent) {
        runtime.logger.warning("\(event.id): gate failed \(event.mode) \(event.version) (generation \(event.generation)), rolled back: \(event.reason)")
        if let data = try? HostParams.encode(event) { runtime.events.publish(topic: "modules.rolled_back", data: data) }
    }

    private func publish(_ event: GateEvent) {
        runtime.logger.info("\(event.id): gate passed \(event.mode) \(event.version): \(event.action)")
        if let data = try? HostParams.encode(event) { runtime.events.publish(topic: "modules.gate_passed", data: data) }
    }

    /// Writes the differing calls to `<state>/reports/<id>-<generation>.jsonl` (0600 in a 0700
    /// directory: params may hold secrets); returns its path, or nil when it cannot be written.
    /// Generations count from 1 again after a restart, so a name an earlier run's report holds
    /// is never overwritten: this one takes `<id>-<generation>-2.jsonl`, `-3`, and so on.
    private func writeReport(_ id: String, generation: Int, _ gate: GateWatch) -> String? {
        let directory = "\(runtime.configuration.stateDirectory)/reports"
        let base = "\(directory)/\(id)-\(generation)"
        var text: [UInt8] = []
        for line in gate.reportLines() {
            text += line
            text.append(UInt8(ascii: "\n"))
        }
        let temporary = "\(base).\(getpid()).tmp"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            defer { unlink(temporary) }
            // link(2) fails on a taken name where rename(2) would replace it.
            for n in 1...10_000 {
                let path = n == 1 ? "\(base).jsonl" : "\(base)-\(n).jsonl"
                if link(temporary, path) == 0 { return path }
                guard errno == EEXIST else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            }
            throw POSIXError(.EEXIST)
        } catch {
            runtime.logger.error("\(id): cannot write the gate's report \(LogText.quote(base + ".jsonl", keep: .tail)): \(error)")
            return nil
        }
    }
}
