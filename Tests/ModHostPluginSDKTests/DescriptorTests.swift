import CModHost
import ModHostPluginSDK
import Testing

@Suite struct DescriptorTests {
    @Test func describesThePluginType() {
        let descriptor = Arithmetic.pluginEntry().assumingMemoryBound(to: mh_plugin.self).pointee
        #expect(descriptor.abi_version == (UInt32(MH_ABI_MAJOR) << 16) | UInt32(MH_ABI_MINOR))
        #expect(descriptor.struct_size == UInt32(MemoryLayout<mh_plugin>.size))
        #expect(String(cString: descriptor.id) == "arith")
        #expect(String(cString: descriptor.version) == "2.1.0")
        #expect(String(cString: descriptor.description) == "Test arithmetic")
        #expect(PluginHarness.list(descriptor.requires) == ["clock >=1.0"])
        #expect(PluginHarness.list(descriptor.subscriptions) == ["tick.*", "alarm"])
        // Registration order.
        #expect(PluginHarness.list(descriptor.methods) == [
            "subtract", "named", "area", "ping", "touch", "verbose", "ignore", "reject", "crash", "nan",
            "events", "started", "slowSubtract", "relay", "relayWithClosure", "keepHost", "publishEmptyTopic",
            "put", "get", "remind",
        ])
        #expect(descriptor.flags == 0)
        #expect(descriptor.`init` != nil && descriptor.handle != nil && descriptor.destroy != nil)
    }

    @Test func isBuiltOnceAndCached() {
        #expect(Arithmetic.pluginEntry() == Arithmetic.pluginEntry())
        #expect(Counter.pluginEntry() != Arithmetic.pluginEntry())
    }

    @Test func stateEntriesOnlyForStatefulPlugins() {
        let plain = Arithmetic.pluginEntry().assumingMemoryBound(to: mh_plugin.self).pointee
        #expect(plain.export_state == nil)
        #expect(plain.import_state == nil)
        let stateful = Counter.pluginEntry().assumingMemoryBound(to: mh_plugin.self).pointee
        #expect(stateful.export_state != nil)
        #expect(stateful.import_state != nil)
        #expect(stateful.requires == nil && stateful.subscriptions == nil && stateful.description == nil)
    }
}
