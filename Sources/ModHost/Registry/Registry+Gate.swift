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
        guard !isClosing, let slot = slot(id), let serving = slot.instance else { return runtime.timers.cancelHost(gate.timer) }
        if gate.skipsCheck() { return }
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
                    return changeFailed(id, gate, "the gate passed the shadow but its promotion failed", error)
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
                    return changeFailed(id, gate, "the gate passed the canary but its promotion failed", error)
                }
                runtime.timers.cancelHost(gate.timer)
                publish(GateEvent(id: id, mode: "canary", generation: generation, version: version, action: "promoted",
                                  percent: 100, reason: verdict.reason, metrics: verdict.metrics, report: nil))
            case .failed:
                do throws(RPCError) {
                    _ = try rollbackCanary(slot, drainTimeout: drain)
                } catch {
                    // The canary still serves its share; a later check fails it again and retries.
                    return changeFailed(id, gate, "the gate failed the canary but its rollback failed", error)
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

    /// Logs a promotion or rollback the gate decided that failed; the timer goes on, and a later
    /// check decides again (`GateWatch.changeFailed`: backing off).
    private func changeFailed(_ id: String, _ gate: GateWatch, _ what: String, _ error: RPCError) {
        let checks = gate.changeFailed()
        let when = checks == 1 ? "at the next check" : "in \(checks) checks (\(checks) min on the host clock)"
        runtime.logger.error("\(id): \(what) (tried again \(when)): \(error.message)")
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
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // O_EXCL: a taken name is never replaced; the next free one is used.
            for n in 1...10_000 {
                let path = n == 1 ? "\(base).jsonl" : "\(base)-\(n).jsonl"
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                if fd < 0 {
                    guard errno == EEXIST else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                    continue
                }
                defer { close(fd) }
                var written = 0
                while written < text.count {
                    let count = text.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else {
                        let code = errno
                        unlink(path)
                        throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
                    }
                    written += count
                }
                fsync(fd)
                return path
            }
            throw POSIXError(.EEXIST)
        } catch {
            runtime.logger.error("\(id): cannot write the gate's report \(LogText.quote(base + ".jsonl", keep: .tail)): \(error)")
            return nil
        }
    }
}
