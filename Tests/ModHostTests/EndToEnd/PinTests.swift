import Foundation
import ModHostTestKit
import Testing

/// Pinned generations through the real binary (issue 16, item 5): the generation a swap,
/// promote or rollback chose comes back after a restart with the same state directory, even
/// when the file that was replaced is still on disk; a new file in its place wins.
///
/// The module is `Fixtures/probe.c`: 1.0.0 in the plugin directory, 2.0.0 elsewhere.
@Suite struct PinTests {
    let plugins: String
    let v1: String
    let v2: String
    let state: String

    init() throws {
        plugins = try TestPlugins.directory()
        v1 = try TestPlugins.probe(into: plugins)
        v2 = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so")
        state = try TemporaryDirectory.make(prefix: "modhost-state")
    }

    private func start(_ arguments: [String] = []) throws -> HostProcess {
        try HostProcess(plugins: plugins, state: state, extraArguments: arguments)
    }

    /// The pinned copies in the state directory (one per pinned module, once a change is done).
    private func copies() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(state)/pinned/default")) ?? []).filter { $0.hasSuffix(".so") }.sorted()
    }

    private func served(_ host: HostProcess) throws -> (version: JSON, file: JSON) {
        let modules = try host.call("modules.list")["modules"].array ?? []
        let probe = modules.first { $0["id"] == "probe" } ?? .null
        return (try host.call("probe.version"), probe["file"])
    }

    @Test func aSwapIsKeptAcrossARestart() throws {
        let first = try start()
        try first.call("modules.swap", ["id": "probe", "path": .string(v2)])
        #expect(try first.shutdown() == 0)
        // The copy and the record are private to the host's user.
        let copy = try #require(copies().first)
        #expect(copies().count == 1, "\(copies())")
        for (path, mode) in [("pinned", 0o700), ("pinned/default", 0o700), ("pinned/default/\(copy)", 0o600), ("pinned/default/pins.json", 0o600)] {
            #expect(try FileManager.default.attributesOfItem(atPath: "\(state)/\(path)")[.posixPermissions] as? Int == mode, "\(path)")
        }

        let second = try start()
        let (version, file) = try served(second)
        #expect(version == "2.0.0")
        #expect(file == .string(v2), "listings name the file the generation came from, not the pinned copy")
        let notice = try second.waitForStderr(containing: "pinned: probe 2.0.0 serves from its pinned copy")
        #expect(notice.contains("chosen by a swap"), "\(notice)")
        #expect(try second.call("modules.describe", ["id": "probe"])["pin"]["version"] == "2.0.0")
        #expect(try second.shutdown() == 0)
    }

    @Test func aRollbackIsKeptAcrossARestartThoughTheNewFileIsStillThere() throws {
        let first = try start()
        try first.call("modules.swap", ["id": "probe", "path": .string(v2)])
        try first.call("modules.rollback", ["id": "probe"])
        #expect(try first.shutdown() == 0)
        #expect(FileManager.default.fileExists(atPath: v2))

        let second = try start()
        #expect(try served(second).version == "1.0.0")
        #expect(try second.waitForStderr(containing: "pinned: probe 1.0.0").contains("chosen by a rollback"))
        #expect(try second.shutdown() == 0)
    }

    /// The config names v2 to serve: a start swaps to it; after a rollback, restarts keep v1
    /// although the config still names v2 and its file is unchanged.
    @Test func aRollbackWinsOverAnUnchangedConfigEntry() throws {
        let config = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
        try Data((["host": ["modules": ["probe": ["path": .string(v2)]]]] as JSON).text.utf8).write(to: URL(fileURLWithPath: config))
        let first = try start(["--config", config])
        #expect(try first.call("probe.version") == "2.0.0")
        try first.call("modules.rollback", ["id": "probe"])
        #expect(try first.shutdown() == 0)

        let second = try start(["--config", config])
        #expect(try second.call("probe.version") == "1.0.0")
        _ = try second.waitForStderr(containing: "host.modules.probe: probe serves its pinned generation")
        #expect(try second.shutdown() == 0)

        // Editing the entry (another file) is a new offer: it wins, the pin goes.
        let v3 = try TestPlugins.probe(into: try TestPlugins.directory(), version: "3.0.0", name: "libprobe-3.so")
        try Data((["host": ["modules": ["probe": ["path": .string(v3)]]]] as JSON).text.utf8).write(to: URL(fileURLWithPath: config))
        let third = try start(["--config", config])
        #expect(try third.call("probe.version") == "3.0.0")
        _ = try third.waitForStderr(containing: "dropped the pin of probe 1.0.0")
        #expect(try third.shutdown() == 0)
    }

    /// The drop-in directory's own case: v2 renamed over the file v1 was loaded from (the host
    /// hot-swaps), then a rollback: after a restart v1 serves, though the directory holds v2.
    @Test func aRollbackAfterADropInReplaceIsKeptThoughTheDirectoryHoldsTheNewBuild() throws {
        let first = try start(["--watch", "--watch-settle-ms", "50"])
        try first.call("events.subscribe", ["topics": ["modules.swapped"]])
        let staging = try TestPlugins.directory()
        #expect(rename(try TestPlugins.probe(into: staging, version: "2.0.0"), v1) == 0)
        #expect(try first.nextEvent(topic: "modules.swapped")["data"]["to"] == "2.0.0")
        try first.call("modules.rollback", ["id": "probe"])
        #expect(try first.call("probe.version") == "1.0.0")
        #expect(try first.shutdown() == 0)

        let second = try start()
        let (version, file) = try served(second)
        #expect(version == "1.0.0")
        #expect(file == .string(v1))
        #expect(try second.waitForStderr(containing: "pinned: probe 1.0.0").contains("chosen by a rollback"))
        // The pinned generation is the one rolled back to, not what is in the file now.
        #expect(try second.call("modules.describe", ["id": "probe"])["pin"]["offer"] == .string(v1))
        #expect(try second.shutdown() == 0)
    }

    @Test func aNewFileInThePluginDirectoryDropsThePin() throws {
        let first = try start()
        try first.call("modules.swap", ["id": "probe", "path": .string(v2)])
        #expect(try first.shutdown() == 0)
        // A new build dropped in (by rename) while the host was down.
        let staging = try TestPlugins.directory()
        let v3 = try TestPlugins.probe(into: staging, version: "3.0.0")
        #expect(rename(v3, v1) == 0)

        let second = try start()
        let (version, file) = try served(second)
        #expect(version == "3.0.0")
        #expect(file == .string(v1))
        let line = try second.waitForStderr(containing: "dropped the pin of probe 2.0.0")
        #expect(line.contains("changed since the pin was made"), "\(line)")
        #expect(copies().isEmpty, "the dropped pin's copy is deleted: \(copies())")
        #expect(try second.shutdown() == 0)
    }

    /// Each pin is on disk before its method answers: a host killed right after a swap starts
    /// v2 again, and one killed right after the swap back that follows starts v1 (the v2 pin
    /// would otherwise still win over the unchanged directory file); each new pin
    /// replaces the old copy, and a copy no record names (a kill between the two writes) goes.
    @Test func killedRightAfterEachChangeTheNextStartKeepsIt() throws {
        let first = try start()
        try first.call("modules.swap", ["id": "probe", "path": .string(v2)])
        first.signal(SIGKILL)
        _ = try first.waitForExit()

        let second = try start()
        #expect(try served(second).version == "2.0.0", "the swap's pin was written before it answered")
        try second.call("modules.swap", ["id": "probe", "path": .string(v1)])
        #expect(copies().count == 1, "the new pin's copy replaced the old one: \(copies())")
        second.signal(SIGKILL)
        _ = try second.waitForExit()
        // As if killed after writing a copy and before the record naming it.
        try Data("not a plugin".utf8).write(to: URL(fileURLWithPath: "\(state)/pinned/default/probe-g9-dead.so"))

        let third = try start()
        #expect(try served(third).version == "1.0.0")
        #expect(try third.waitForStderr(containing: "pinned: probe 1.0.0").contains("chosen by a swap"))
        #expect(copies().count == 1 && !copies().contains("probe-g9-dead.so"), "\(copies())")
        #expect(try third.shutdown() == 0)
    }

    /// The config names v2 to serve, so without the pin a start would swap to it: killed right
    /// after the rollback, the next start still serves v1.
    @Test func killedRightAfterARollbackTheNextStartKeepsV1ThoughTheConfigNamesV2() throws {
        let config = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
        try (["host": ["modules": ["probe": ["path": .string(v2)]]]] as JSON).text.write(toFile: config, atomically: true, encoding: .utf8)
        let first = try start(["--config", config])
        #expect(try served(first).version == "2.0.0")
        try first.call("modules.rollback", ["id": "probe"])
        first.signal(SIGKILL)
        _ = try first.waitForExit()

        let second = try start(["--config", config])
        #expect(try served(second).version == "1.0.0", "the rollback's pin was on disk before it answered")
        #expect(try second.shutdown() == 0)
    }

    @Test func aPromotedShadowIsPinnedAShadowAloneIsNot() throws {
        let first = try start()
        try first.call("modules.swap", ["id": "probe", "path": .string(v2), "mode": "shadow"])
        #expect(try first.shutdown() == 0)
        let second = try start()
        #expect(try served(second).version == "1.0.0", "a shadow does not change what serves")
        try second.call("modules.swap", ["id": "probe", "path": .string(v2), "mode": "shadow"])
        try second.call("modules.promote", ["id": "probe"])
        #expect(try second.shutdown() == 0)
        let third = try start()
        #expect(try served(third).version == "2.0.0")
        #expect(try third.waitForStderr(containing: "pinned: probe 2.0.0").contains("chosen by a promote"))
        #expect(try third.shutdown() == 0)
    }

    @Test func unloadDropsThePin() throws {
        let first = try start()
        try first.call("modules.swap", ["id": "probe", "path": .string(v2)])
        try first.call("modules.unload", ["id": "probe"])
        #expect(try first.shutdown() == 0)
        let second = try start()
        #expect(try served(second).version == "1.0.0")
        #expect(try second.shutdown() == 0)
    }
}
