import CModHost
import Foundation
import Logging
import Synchronization

/// What an `mh_context *` names: the host's side of one module instance.
///
/// Host-table functions reach the runtime through it, from any thread. Plugins hold a token
/// (`ContextTable`), never a pointer to this object: once the instance's `destroy` has returned,
/// `retire()` forgets the token, and a plugin thread still calling the host table gets
/// `MH_EXPIRED` instead of touching freed memory.
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
    /// The `mh_context *` value plugins hold; 0 until `init` registered it.
    private(set) var token: UInt64 = 0

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
        token = ContextTable.shared.register(self)
    }

    deinit {
        free(cModuleID)
        free(cDataDirectory)
        free(cServerID)
    }

    /// The token as the `mh_context *` handed to the plugin.
    var opaque: OpaquePointer { OpaquePointer(bitPattern: UInt(token))! }

    /// The live context a plugin's `mh_context *` names; nil for NULL or a retired one.
    @inline(__always)
    static func from(_ pointer: OpaquePointer?) -> ModuleContext? {
        guard let pointer else { return nil }
        return ContextTable.shared.lookup(UInt64(UInt(bitPattern: pointer)))
    }

    /// Forgets the token once the plugin may no longer use it (after `destroy`, or a failed
    /// `init`): later host-table calls with it get `MH_EXPIRED`.
    func retire() {
        ContextTable.shared.retire(token)
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
