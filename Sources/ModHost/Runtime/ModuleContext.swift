import CModHost
import Foundation
import Logging
import Synchronization

/// What an `mh_context *` points at: the host's side of one module instance.
///
/// Host-table functions reach the runtime through it, from any thread. It lives as long as its
/// instance, which the registry keeps until after `destroy` returns.
final class ModuleContext: @unchecked Sendable {
    unowned let runtime: HostRuntime
    let moduleID: String
    let slot: ModuleSlot
    let logger: Logger
    let cModuleID: UnsafeMutablePointer<CChar>
    let cDataDirectory: UnsafeMutablePointer<CChar>
    let cServerID: UnsafeMutablePointer<CChar>
    private let instanceBox = Mutex<ModuleInstance?>(nil)
    /// Set for a shadow instance: its store writes stay here, and it publishes and calls nothing.
    let overlay: StoreOverlay?

    var isShadow: Bool { overlay != nil }

    init(runtime: HostRuntime, moduleID: String, slot: ModuleSlot, dataDirectory: String, shadow: Bool = false) {
        overlay = shadow ? StoreOverlay(module: moduleID, store: runtime.store) : nil
        self.runtime = runtime
        self.moduleID = moduleID
        self.slot = slot
        var logger = Logger(label: "modhost.\(moduleID)")
        logger.logLevel = runtime.logger.logLevel
        self.logger = logger
        cModuleID = strdup(moduleID)
        cDataDirectory = strdup(dataDirectory)
        cServerID = strdup(runtime.serverID)
    }

    deinit {
        free(cModuleID)
        free(cDataDirectory)
        free(cServerID)
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer?) -> ModuleContext? {
        guard let pointer else { return nil }
        return Unmanaged<ModuleContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    var instance: ModuleInstance? { instanceBox.withLock { $0 } }

    func attach(_ instance: ModuleInstance) { instanceBox.withLock { $0 = instance } }

    /// Drops the link to the instance after `destroy`, so late callbacks are dropped.
    func detach() { instanceBox.withLock { $0 = nil } }

    func subscribeDescriptorTopics() {
        guard let instance, instance.descriptor.onEvent != nil else { return }
        for pattern in instance.descriptor.subscriptions {
            runtime.events.subscribe(pattern, .module(self))
        }
    }

    /// Cancels the instance's timers and event subscriptions (at stop, and again after a
    /// failed init/start or destroy, in case the plugin started some there).
    func endActivity() {
        runtime.timers.cancelAll(of: self)
        runtime.events.unsubscribeAll(self)
    }

    /// Runs an event, timer or reply on the instance, if it is still alive; on the module's mailbox.
    func run(_ callback: Callback) {
        switch callback {
        case .event(let event):
            guard let instance, instance.isAlive, instance.state == .running, let onEvent = instance.descriptor.onEvent else { return }
            event.topic.withCString { topic in
                let length = event.topic.utf8.count
                instance.entering("on_event", detail: UnsafeBufferPointer(start: topic, count: length)) {
                    event.data.withUnsafeBufferPointer { data in
                        data.withMemoryRebound(to: CChar.self) { data in
                            onEvent(instance.pointer, topic, length, data.baseAddress, data.count - 1)
                        }
                    }
                }
            }
        case .timer(let firing):
            defer { firing.done?() }
            guard let instance, instance.isAlive else { return }
            instance.entering("timer callback") { runtime.timers.fire(firing) }
        case .reply(let fn, let user, let code, let json):
            guard let instance, instance.isAlive else { return }
            var bytes = json
            bytes.append(0)
            instance.entering("reply callback") {
                bytes.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { fn(user, code, $0.baseAddress, json.count) }
                }
            }
        }
    }
}

/// The caller's side of an inter-module call: the reply goes back through its mailbox.
struct ModuleReply: @unchecked Sendable {
    let context: ModuleContext
    let fn: mh_reply_fn
    let user: UnsafeMutableRawPointer?

    func deliver(code: Int32, json: [UInt8]) {
        context.slot.mailbox.post(.callback(context, .reply(fn: fn, user: user, code: code, json: json)))
    }
}
