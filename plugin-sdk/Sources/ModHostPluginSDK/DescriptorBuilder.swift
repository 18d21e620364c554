import CModHost

/// Builds a plugin type's `mh_plugin` descriptor: C strings and lists allocated once and
/// never freed, and the SDK's entry points.
enum DescriptorBuilder {
    /// - Parameter topics: the topics and patterns of the type's event handlers, subscribed
    ///   after `P.subscriptions` (each once).
    static func build<P: Plugin>(for type: P.Type, methods: [String], topics: [String] = [])
        -> (descriptor: UnsafePointer<mh_plugin>, methodNames: [UnsafePointer<CChar>])
    {
        let methodNames = methods.map { $0.leakedCString() }
        var plugin = mh_plugin()
        plugin.abi_version = MH_ABI_VERSION
        plugin.struct_size = UInt32(MemoryLayout<mh_plugin>.size)
        plugin.id = P.id.leakedCString()
        plugin.version = P.version.leakedCString()
        plugin.description = P.description.isEmpty ? nil : P.description.leakedCString()
        plugin.requires = list(P.requires.map { $0.leakedCString() })
        var subscriptions = P.subscriptions
        for topic in topics where !subscriptions.contains(topic) { subscriptions.append(topic) }
        plugin.subscriptions = list(subscriptions.map { $0.leakedCString() })
        plugin.methods = list(methodNames)
        plugin.flags = (P.isConcurrent ? UInt64(MH_FLAG_CONCURRENT) : 0) | (P.allowsTwoInstances ? UInt64(MH_FLAG_MULTI_INSTANCE) : 0)
        EntryPoints.install(in: &plugin, stateful: StateCodec.forPlugin(type) != nil)

        let descriptor = UnsafeMutablePointer<mh_plugin>.allocate(capacity: 1)
        descriptor.initialize(to: plugin)
        return (UnsafePointer(descriptor), methodNames)
    }

    /// A NULL-terminated array of `strings`, or NULL for none.
    private static func list(_ strings: [UnsafePointer<CChar>]) -> UnsafePointer<UnsafePointer<CChar>?>? {
        guard !strings.isEmpty else { return nil }
        let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() {
            (array + index).initialize(to: string)
        }
        (array + strings.count).initialize(to: nil)
        return UnsafePointer(array)
    }
}
