import Foundation
import ModHostTestKit
import Testing

/// The minor-version policy of `modhost.h` through the real binary: plugins built against
/// ABI 1.0, 1.1 and a newer minor than the host's all load, and the host reads no byte past
/// what each built (README, "Typed exports"; DESIGN.md, "ABI 1.2").
@Suite struct ABICompatibilityTests {
    let host: HostProcess
    /// Where the fixtures are built: not the host's plugin directory, which it may still be
    /// scanning at start-up.
    let plugins: String

    init() throws {
        let serving = try TestPlugins.directory()
        try TestPlugins.echo(into: serving)
        host = try HostProcess(plugins: serving)
        plugins = try TestPlugins.directory()
    }

    @discardableResult
    private func load(_ path: String) throws -> JSON {
        try host.call("modules.load", ["path": .string(path)])
    }

    /// The host still answers, and nothing died while loading.
    private func expectServing(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try host.call("echo.ping") == "pong", sourceLocation: sourceLocation)
        #expect(!host.stderrText.contains("fatal"), "\(host.stderrText)", sourceLocation: sourceLocation)
    }

    @Test func hostSpeaksABI12() throws {
        #expect(try host.call("host.status")["abiVersion"] == "1.2")
        #expect(try host.call("modules.describe", ["id": "echo"])["abiVersion"] == "1.2")
    }

    /// The crash: a 128-byte 1.0 descriptor whose next byte is unmapped. A host that
    /// copies its own (larger) mh_plugin before checking struct_size dies of SIGSEGV here.
    @Test func genuine10DescriptorBeforeAGuardPageLoads() throws {
        let loaded = try load(TestPlugins.legacy(into: plugins, minor: 0))
        #expect(loaded["id"] == "legacy10")
        #expect(loaded["abiVersion"] == "1.0")
        #expect(loaded["exports"] == [])
        #expect(try host.call("legacy10.ping") == "pong")
        // It got this host's (larger) structs and read only its part of them.
        let sizes = try host.call("legacy10.sizes")
        #expect((sizes["info"].int ?? 0) > 64 && (sizes["host"].int ?? 0) > 144, "\(sizes)")
        try expectServing()
    }

    /// A 144-byte 1.1 descriptor and its exports array, each ending at a guard page: the host
    /// reads the 1.1 fields and the frozen 48-byte entries, and the exports work.
    @Test func genuine11DescriptorAndExportsBeforeGuardPagesLoad() throws {
        let loaded = try load(TestPlugins.legacy(into: plugins, minor: 1))
        #expect(loaded["abiVersion"] == "1.1")
        #expect(loaded["exports"].array?.compactMap { $0["name"].string } == ["sum", "neg"])
        #expect(try host.call("legacy11.sum", [40, 2]) == 42)
        #expect(try host.call("legacy11.neg", ["a": 5]) == -5)
        #expect(try host.call("legacy11.ping") == "pong")
        try expectServing()
    }

    /// A plugin built against "1.3" (longer structs, an unknown flag, a function a 1.2 host does
    /// not call) loads; the plugin finds the host's 1.2 services and not the 1.3 one (MH_HAS).
    @Test func pluginBuiltAgainstANewerMinorLoads() throws {
        let loaded = try load(TestPlugins.future(into: plugins))
        #expect(loaded["abiVersion"] == "1.3")
        #expect(loaded["exports"].array?.compactMap { $0["name"].string } == ["one", "triple"])
        #expect(try host.call("future.host") == ["abi": "1.2", "call_v2": true, "yield": false, "flags": true])
        #expect(try host.call("future.triple", [14]) == 42)
        #expect(try host.call("future.one") == 1)
        #expect(try host.call("future.ping") == "pong")
        // Unloading never calls the 1.3 hook (it aborts) either.
        #expect(try host.call("modules.unload", ["id": "future"]) == ["unloaded": "future"])
        try expectServing()
    }

    /// `modules.describe` reports what each plugin was built against, side by side.
    @Test func describeShowsEachPluginsABI() throws {
        try load(TestPlugins.legacy(into: plugins, minor: 0))
        try load(TestPlugins.legacy(into: plugins, minor: 1))
        try load(TestPlugins.services(into: plugins))
        try load(TestPlugins.future(into: plugins))
        var versions: [String: String] = [:]
        for id in ["legacy10", "legacy11", "svc", "future", "echo"] {
            versions[id] = try host.call("modules.describe", ["id": .string(id)])["abiVersion"].string
        }
        #expect(versions == ["legacy10": "1.0", "legacy11": "1.1", "svc": "1.2", "future": "1.3", "echo": "1.2"])
        try expectServing()
    }
}
