import CModHost
import Dispatch
import Foundation
import ModHostSupport

/// The host's own methods on the control channel: `host.*`, `modules.*`, `events.*`, `clock.*`.
///
/// Quick ones (status, lists, event subscriptions) answer on the reading thread, so a
/// subscription is in place before the next line is read. Ones that wait on modules (load,
/// unload, clock moves) run one at a time on the control queue.
final class HostMethods: @unchecked Sendable {
    static let version = "0.1.0"
    private static let namespaces: Set<Substring> = ["host", "modules", "events", "clock", "rpc"]

    private let runtime: HostRuntime
    private let requestShutdown: @Sendable () -> Void

    init(runtime: HostRuntime, requestShutdown: @escaping @Sendable () -> Void) {
        self.runtime = runtime
        self.requestShutdown = requestShutdown
    }

    /// Waits until the control queue has run everything submitted so far (at shutdown, after
    /// input stopped: a `modules.load` still queued is answered before modules stop), then keeps
    /// the queue busy until the returned semaphore is signalled: nothing queued later runs before
    /// then. Gives up waiting at `deadline`: a load stuck in a plugin's `init` does not hold
    /// shutdown forever. Signal the semaphore exactly once.
    func holdControl(until deadline: ContinuousClock.Instant) -> DispatchSemaphore {
        let reached = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        runtime.control.async {
            reached.signal()
            release.wait()
        }
        let (seconds, attoseconds) = max(deadline - ContinuousClock.now, .zero).components
        _ = reached.wait(timeout: .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
        return release
    }

    func handles(_ method: String) -> Bool {
        let utf8 = method.utf8
        guard let dot = utf8.firstIndex(of: UInt8(ascii: ".")) else { return false }
        return Self.namespaces.contains(Substring(utf8[..<dot]))
    }

    /// Runs a host method and answers it once through `reply`; then tells the control-channel
    /// client that sent it, if any, that it is done.
    func dispatch(_ method: String, params: [UInt8]?, id: [UInt8]?, reply: ReplyTarget) {
        let respond: @Sendable (Result<[UInt8], RPCError>) -> Void = { outcome in
            Self.complete(reply, id: id, outcome)
            reply.client?.callFinished()
        }
        // Only what the catalog lists is served, so `--help` lists every host method.
        guard HostMethodCatalog.names.contains(method) else { return respond(.failure(.methodNotFound(method))) }
        switch method {
        case "host.status": respond(encode(status()))
        case "modules.list": respond(encode(ModuleList(modules: runtime.registry.entries.map { ModuleSummary($0.instance) })))
        case "modules.describe":
            respond(Result { () throws(RPCError) in
                let request = try HostParams.decode(IDParams.self, params)
                guard let slot = runtime.registry.slot(request.id), let instance = slot.instance else {
                    throw RPCError.invalidParams("no module \"\(request.id)\" is loaded")
                }
                return try HostParams.encode(ModuleDescription(instance, slot: slot, pin: runtime.pins.record(request.id)))
            })
        case "modules.metrics":
            respond(Result { () throws(RPCError) in
                let request = try HostParams.decode(MetricsParams.self, params)
                return try HostParams.encode(MetricsReport.answer(runtime, id: request.id))
            })
        case "host.metrics":
            respond(Result { () throws(RPCError) in
                let request = try HostParams.decode(HostMetricsParams.self, params)
                switch request.format ?? "prometheus" {
                case "prometheus":
                    return try HostParams.encode(PrometheusText(
                        text: MetricsReport.prometheus(runtime), enabled: runtime.metrics != nil,
                        message: runtime.metrics == nil ? MetricsReport.offMessage : nil))
                case "json": return try HostParams.encode(MetricsReport.answer(runtime, id: nil))
                case let other:
                    throw RPCError.invalidParams("\"format\" must be \"prometheus\" (text for scrapers) or \"json\", got \"\(other)\"")
                }
            })
        case "events.subscribe", "events.unsubscribe":
            respond(Result { () throws(RPCError) in
                // Subscriptions are the asking connection's own.
                guard let client = reply.client else { throw RPCError.methodNotFound(method, "only for control-channel clients") }
                let request = try HostParams.decode(TopicsParams.self, params)
                for topic in request.topics {
                    guard !topic.isEmpty else { throw RPCError.invalidParams("\"topics\" must not contain an empty topic") }
                    if method == "events.subscribe" {
                        runtime.events.subscribe(topic, .client(client))
                    } else {
                        runtime.events.unsubscribe(topic, .client(client))
                    }
                }
                return try HostParams.encode(["subscribed": runtime.events.patterns(of: client)])
            })
        case "events.publish":
            respond(Result { () throws(RPCError) in
                let (topic, data) = try HostParams.decodePublish(params)
                let count = runtime.events.publish(topic: topic, data: data)
                return try HostParams.encode(["subscribers": count])
            })
        case "modules.load", "modules.unload", "modules.swap", "modules.rollback", "modules.promote", "modules.canary", "clock.advance",
            "clock.set", "host.shutdown", "host.reloadConfig":
            // A load counts as in progress from the moment it is read: calls to a module not
            // known yet, read after it, wait for it (PendingLoads).
            let isLoad = method == "modules.load"
            if isLoad { runtime.loads.begin() }
            runtime.control.async { [self] in
                CrashReport.prepareThread()  // plugin code (init, start, stop, a swap) runs here
                respond(Result { () throws(RPCError) in try blocking(method, params) })
                if isLoad { runtime.loads.end() }  // after the load's answer: then the calls waiting for it
            }
        default:
            respond(.failure(.methodNotFound(method)))
        }
    }

    private func blocking(_ method: String, _ params: [UInt8]?) throws(RPCError) -> [UInt8] {
        switch method {
        case "modules.load":
            let (path, config) = try HostParams.decodeLoad(params)
            let instance: ModuleInstance
            do throws(LoadError) {
                instance = try runtime.registry.load(path, config: config)
            } catch {
                runtime.logger.error("load failed: \(LogText.quote(path, keep: .tail)): \(LogText.line(error.description))")
                throw RPCError.loadFailed(error.description, file: path)
            }
            return try HostParams.encode(ModuleDescription(instance, slot: runtime.registry.slot(instance.id)))
        case "modules.swap":
            return try SwapRequest.run(runtime, params: params)
        case "modules.canary":
            let request = try HostParams.decode(CanaryParams.self, params)
            return try HostParams.encode(runtime.registry.stepCanary(request.id, percent: request.percent, drainTimeout: runtime.configuration.drainTimeout))
        case "modules.promote":
            let request = try HostParams.decode(IDParams.self, params)
            return try HostParams.encode(runtime.registry.promote(request.id, drainTimeout: runtime.configuration.drainTimeout))
        case "modules.rollback":
            let request = try HostParams.decode(IDParams.self, params)
            return try HostParams.encode(runtime.registry.rollback(request.id, drainTimeout: runtime.configuration.drainTimeout))
        case "modules.unload":
            let request = try HostParams.decode(UnloadParams.self, params)
            try runtime.registry.unload(request.id, force: request.force ?? false, drainTimeout: runtime.configuration.drainTimeout)
            return try HostParams.encode(["unloaded": request.id])
        case "clock.advance", "clock.set":
            guard let manual = runtime.clock as? ManualClock else {
                throw RPCError.methodNotFound(method, "only with --manual-clock")
            }
            let request = try HostParams.decode(ClockParams.self, params)
            if method == "clock.advance" {
                guard request.ms >= 0 else { throw RPCError.invalidParams("\"ms\" must not be negative, got \(request.ms)") }
                let target = manual.nowMs.addingSaturating(request.ms)
                guard HostTime.validMs.contains(target) else {
                    throw RPCError.invalidParams(
                        "\"ms\": advancing by \(request.ms) would move the clock past 9999-12-31; the clock stays within \(HostTime.rangeText)")
                }
                runtime.timers.advance(to: target, clock: manual)
            } else {
                guard HostTime.validMs.contains(request.ms) else {
                    throw RPCError.invalidParams("\"ms\" must be within \(HostTime.rangeText), got \(request.ms)")
                }
                runtime.timers.set(to: request.ms, clock: manual)
            }
            return try HostParams.encode(["nowMs": manual.nowMs])
        case "host.reloadConfig":
            return try HostParams.encode(runtime.configModules.reload(reason: "host.reloadConfig"))
        case "host.shutdown":
            requestShutdown()
            return Array("true".utf8)
        default:
            throw RPCError.methodNotFound(method)
        }
    }

    private func status() -> HostStatus {
        let elapsed = ContinuousClock.now - runtime.startedAt
        let clients = runtime.clients.all
        return HostStatus(
            version: Self.version,
            abiVersion: "\(MH_ABI_MAJOR).\(MH_ABI_MINOR)",
            serverId: runtime.serverID,
            uptimeMs: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000,
            clock: runtime.clock.isManual ? "manual" : "real",
            nowMs: runtime.clock.nowMs,
            modules: runtime.registry.entries.map { ModuleSummary($0.instance) },
            retiredImages: runtime.registry.retiredImages,
            openCalls: CallTable.shared.openCount,
            droppedEvents: clients.reduce(0) { $0 + $1.droppedEvents },
            clients: clients.map { ClientSummary($0, subscriptions: runtime.events.patterns(of: $0)) },
            disabled: runtime.configuration.disabled.listed)
    }

    private func encode(_ value: some Encodable) -> Result<[UInt8], RPCError> {
        Result { () throws(RPCError) in try HostParams.encode(value) }
    }

    /// Writes a host method's response where the request wants it.
    static func complete(_ reply: ReplyTarget, id: [UInt8]?, _ outcome: Result<[UInt8], RPCError>) {
        let line: [UInt8]
        switch outcome {
        case .success(let result): line = RPCResponse.result(id: id ?? Array("null".utf8), result)
        case .failure(let error): line = id.map { id in id.withUnsafeBufferPointer { RPCResponse.error(id: $0, error) } } ?? RPCResponse.error(id: nil, error)
        }
        switch reply {
        case .notification: return
        case .channel(let client): client.output.writeLine(line)
        case .batch(let collector): collector.add(line)
        case .module(let module):
            switch outcome {
            case .success(let result): module.deliver(code: 0, json: result)
            case .failure(let error): module.deliver(code: error.code, json: error.json)
            }
        case .handler(let handler):
            switch outcome {
            case .success(let result): handler(.result(result))
            case .failure(let error): handler(.error(error))
            }
        }
    }
}
