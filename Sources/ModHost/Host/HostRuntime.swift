import Dispatch
import Foundation
import Logging

/// The host's services, shared by the control channel, the registry and the host table.
final class HostRuntime: @unchecked Sendable {
    let configuration: HostConfiguration
    let logger: Logger
    /// Every client of the control channel (stdio and socket connections) by id, for
    /// `call_client`, `notify_client` and `host.status`.
    let clients = ClientTable()
    let clock: any HostClock
    let timers: TimerService
    let events: EventBus
    let store: any ModuleStore
    let startedAt = ContinuousClock.now
    /// Calls, errors and latency per module, generation and method; nil with `--no-metrics`.
    let metrics: HostMetrics?
    /// Where lifecycle changes run, one at a time: `modules.load/unload/swap/rollback`, clock
    /// moves, and what the plugin directory watcher decides.
    let control = DispatchQueue(label: "modhost.control")
    /// `--call-timeout-ms`: the deadline of a client's call, and of a module's without its own.
    let callTimeoutMilliseconds: UInt64
    /// The same in nanoseconds (saturating), for the call path.
    private let callTimeoutNanoseconds: UInt64
    // Set once in init; the registry needs `self`.
    private(set) var registry: Registry!
    /// Loads in progress, and clients' calls to module ids not known yet waiting for them.
    private(set) var loads: PendingLoads!
    /// The generations swaps, promotes and rollbacks chose, kept for the next start.
    let pins: Pins
    /// The config file's `host.modules` and per-module sections, as last read (start, reload).
    private(set) var configModules: ConfigModules!

    var serverID: String { configuration.serverID }

    init(configuration: HostConfiguration, store: any ModuleStore, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        metrics = configuration.metrics ? HostMetrics() : nil
        if let start = configuration.manualClockStartMs {
            clock = ManualClock(startMs: start)
        } else {
            clock = SystemClock()
        }
        timers = TimerService(clock: clock)
        events = EventBus(clock: clock)
        let (seconds, attoseconds) = configuration.callTimeout.components
        callTimeoutMilliseconds = UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds) / 1_000_000_000_000_000)
        let (nanoseconds, overflow) = callTimeoutMilliseconds.multipliedReportingOverflow(by: 1_000_000)
        callTimeoutNanoseconds = overflow ? .max : nanoseconds
        let loader = try PluginLoader(maxFileBytes: configuration.maxPluginBytes)
        for stale in loader.images.removedStale {
            logger.info("removed \(stale), left by a host that is gone")
        }
        pins = Pins(stateDirectory: configuration.stateDirectory, serverID: configuration.serverID, logger: logger)
        registry = Registry(runtime: self, loader: loader)
        loads = PendingLoads(runtime: self)
        configModules = ConfigModules(runtime: self)
    }

    /// The module's own directory for bulk files: `<state>/data/<server-id>/<module>`.
    func dataDirectory(for id: String) -> String {
        let path = "\(configuration.stateDirectory)/data/\(configuration.serverID)/\(id)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    /// The module id a method name is addressed to (`<module>.<method>`, or the default module
    /// for a bare name); nil when it names none.
    func moduleID(of method: String) -> String? {
        if let dot = method.utf8.firstIndex(of: UInt8(ascii: ".")) { return String(method[..<dot]) }
        return configuration.defaultModule
    }

    /// Resolves `<module>.<method>` (or a bare name, with a default module) to a loaded module.
    @inline(__always)
    func route(_ method: String) -> Result<Route, RPCError> {
        let moduleID: String
        let name: String
        if let dot = method.utf8.firstIndex(of: UInt8(ascii: ".")) {
            moduleID = String(method[..<dot])
            name = String(method[method.utf8.index(after: dot)...])
        } else if let defaultModule = configuration.defaultModule {
            moduleID = defaultModule
            name = method
        } else {
            return .failure(.methodNotFound(method, "methods are named <module>.<method>"))
        }
        guard let slot = registry.slot(moduleID), let instance = slot.instance else {
            return .failure(.methodNotFound(method, "no module \(moduleID) is loaded"))
        }
        guard let found = instance.descriptor.methods[name] else {
            if instance.descriptor.exports[name] != nil {
                return .success(Route(slot: slot, method: name, resolved: nil))  // a typed export
            }
            instance.metrics?.unknown.refused(code: RPCError.methodNotFoundCode)  // one series for every undeclared name
            return .failure(.methodNotFound(method, "module \(moduleID) has no method \(name)"))
        }
        return .success(Route(slot: slot, method: name, resolved: (instance.generation, found.cString, found.length)))
    }

    /// Where a call goes: the module's slot, the method name, and the C name in the instance
    /// that was current when it was routed (so the mailbox need not look it up again).
    struct Route {
        let slot: ModuleSlot
        let method: String
        /// Nil for a typed export.
        let resolved: (generation: Int, name: UnsafePointer<CChar>, length: Int)?
    }

    /// The deadline of a call read now without one of its own: `--call-timeout-ms`.
    @inline(__always)
    func defaultDeadline() -> CallDeadline {
        .after(nanoseconds: callTimeoutNanoseconds, milliseconds: callTimeoutMilliseconds)
    }

    /// `mh_host_api.call` and `call_v2`: a module calls another module's method.
    ///
    /// - Parameter deadlineMs: the callee's deadline from now (`call_v2`); 0 or nil for
    ///   `--call-timeout-ms`.
    func callFromModule(method: String, params: [UInt8]?, reply: ModuleReply, deadlineMs: UInt64? = nil) {
        switch route(method) {
        case .failure(let error):
            reply.deliver(code: error.code, json: error.json)
        case .success(let target):
            let deadline = deadlineMs.flatMap { $0 == 0 ? nil : CallDeadline.after(milliseconds: $0, fromCaller: true) }
                ?? defaultDeadline()
            let call: Call
            if let params {
                call = params.withUnsafeBufferPointer {
                    Call(method: target.method, slot: target.slot, reply: .module(reply), id: nil, params: $0, deadline: deadline)
                }
            } else {
                call = Call(method: target.method, slot: target.slot, reply: .module(reply), id: nil, params: nil, deadline: deadline)
            }
            call.resolved = target.resolved
            target.slot.mailbox.post(.call(call))
        }
    }
}
