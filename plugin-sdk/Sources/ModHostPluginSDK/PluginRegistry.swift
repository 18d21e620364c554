import CModHost
import Synchronization

/// The process-wide table of plugin types: each one's descriptor and runtime, built on the
/// first `pluginEntry()` and kept forever (a Swift image is never unloaded, so neither is
/// freed).
///
/// The host's `init` carries no pointer back to the descriptor, so the non-generic `init`
/// entry point finds the plugin type here by the module id the host passes.
final class PluginRegistry: Sendable {
    static let shared = PluginRegistry()

    /// `@unchecked Sendable`: the descriptor is immutable once built.
    private struct Entry: @unchecked Sendable {
        let type: ObjectIdentifier
        let descriptor: UnsafePointer<mh_plugin>
        let runtime: any AnyPluginRuntime
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The descriptor of `type`, building it (and its runtime) on first use.
    func descriptor<P: Plugin>(for type: P.Type) -> UnsafePointer<mh_plugin> {
        let entry = entries.withLock { entries in
            if let entry = entries[P.id] {
                precondition(entry.type == ObjectIdentifier(type),
                             "two plugin types declare the module id \"\(P.id)\"; the second is \(type)")
                return entry
            }
            var methods = Methods<P>()
            P.register(&methods)
            let built = DescriptorBuilder.build(for: type, methods: methods.names, topics: methods.topics)
            let runtime = PluginRuntime(methods: methods, methodNames: built.methodNames)
            let entry = Entry(type: ObjectIdentifier(type), descriptor: built.descriptor, runtime: runtime)
            entries[P.id] = entry
            return entry
        }
        return entry.descriptor
    }

    /// The runtime for `moduleID`; with no id, the only registered plugin type, if any.
    func runtime(moduleID: String?) -> (any AnyPluginRuntime)? {
        entries.withLock { entries in
            if let moduleID { return entries[moduleID]?.runtime }
            return entries.count == 1 ? entries.first?.value.runtime : nil
        }
    }
}
