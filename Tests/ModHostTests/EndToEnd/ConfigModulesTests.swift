import Foundation
import ModHostTestKit
import Testing

/// Config-driven modules through the real binary (issue 16, item 5): the `--config` file's
/// reserved `host.modules` section names each module's file and mode, applied at start, on
/// SIGHUP and on `host.reloadConfig`; a bad section stops a start and changes nothing on a reload.
///
/// The module is `Fixtures/probe.c` built as 1.0.0 (in the plugin directory) and 2.0.0
/// (elsewhere).
@Suite struct ConfigModulesTests {
    let plugins: String
    let elsewhere: String
    let v2: String
    let config: String

    init() throws {
        plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        elsewhere = try TestPlugins.directory()
        v2 = try TestPlugins.probe(into: elsewhere, version: "2.0.0", name: "libprobe-2.so")
        config = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
    }

    private func writeConfig(_ value: JSON) throws {
        // By rename, as an editor saving the file would.
        try Data(value.text.utf8).write(to: URL(fileURLWithPath: config), options: .atomic)
    }

    private func start(_ value: JSON) throws -> HostProcess {
        try writeConfig(value)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--config", config])
        // Answered once the host has read the file and started: the test may edit it from now on.
        _ = try host.call("host.status")
        return host
    }

    private func hostModules(_ modules: JSON) -> JSON { ["host": ["modules": modules]] }

    @Test func serveAtStartSwapsToTheNamedFileAndLoadsAModuleOnlyTheConfigNames() throws {
        let extra = try TestPlugins.probe(into: elsewhere, id: "extra", version: "1.5.0")
        let host = try start(hostModules([
            "probe": ["path": .string(v2), "mode": "serve"],
            // Relative to the config file's directory is allowed too; here absolute.
            "extra": ["path": .string(extra)],
        ]))
        #expect(try host.call("probe.version") == "2.0.0")
        let modules = try host.call("modules.list")["modules"].array ?? []
        let probe = try #require(modules.first { $0["id"] == "probe" })
        #expect(probe["file"] == .string(v2))
        #expect(probe["generation"] == 2, "loaded from the directory, then swapped to the file the config names")
        #expect(try host.call("extra.version") == "1.5.0")
        #expect(try host.shutdown() == 0)
    }

    @Test func shadowAtStartStartsAShadowBesideWhatServes() throws {
        let host = try start(hostModules(["probe": ["path": .string(v2), "mode": "shadow", "keepSamples": 3]]))
        #expect(try host.call("probe.version") == "1.0.0")
        let shadow = try host.call("modules.describe", ["id": "probe"])["shadow"]
        #expect(shadow["version"] == "2.0.0")
        #expect(shadow["keepSamples"] == 3)
        #expect(try host.shutdown() == 0)
    }

    @Test func sighupSwitchesAModuleToShadow() throws {
        let host = try start(["probe": ["greeting": "hi"]])
        #expect(try host.call("modules.describe", ["id": "probe"])["shadow"] == .null)
        try writeConfig(["probe": ["greeting": "hi"], "host": ["modules": ["probe": ["path": .string(v2), "mode": "shadow"]]]])
        host.signal(SIGHUP)
        let line = try host.waitForStderr(containing: "SIGHUP: config reloaded")
        #expect(line.contains("applied [probe (shadow: shadow)]"), "\(line)")
        #expect(!host.stderrText.contains("greeting"), "a per-module section is never logged")
        #expect(try host.call("modules.describe", ["id": "probe"])["shadow"]["version"] == "2.0.0")
        #expect(try host.call("probe.version") == "1.0.0")
        #expect(try host.shutdown() == 0)
    }

    @Test func reloadConfigAppliesWhatChangedAndSaysSo() throws {
        let host = try start([:])
        try writeConfig(hostModules(["probe": ["path": .string(v2), "mode": "shadow"]]))
        let first = try host.call("host.reloadConfig")
        #expect(first["applied"].array?.count == 1)
        #expect(first["applied"][0]["id"] == "probe")
        #expect(first["applied"][0]["mode"] == "shadow")
        #expect(first["applied"][0]["result"]["shadow"] == "2.0.0")
        #expect(first["failed"] == [])
        #expect(try host.call("modules.describe", ["id": "probe"])["shadow"]["version"] == "2.0.0")

        // Nothing changed: nothing is applied again (a second shadow would be refused).
        let second = try host.call("host.reloadConfig")
        #expect(second["applied"] == [])
        #expect(second["unchanged"] == ["probe"])

        // "serve" with the shadow's own file promotes it.
        try writeConfig(hostModules(["probe": ["path": .string(v2), "mode": "serve"]]))
        let third = try host.call("host.reloadConfig")
        #expect(third["applied"][0]["action"] == "promoted", "\(third)")
        #expect(try host.call("probe.version") == "2.0.0")

        // An entry removed from the file leaves the module as it is.
        try writeConfig([:])
        let fourth = try host.call("host.reloadConfig")
        #expect(fourth["removed"] == ["probe"])
        #expect(try host.call("probe.version") == "2.0.0")
        #expect(try host.shutdown() == 0)
    }

    @Test func aRelativePathIsReadFromTheConfigFilesDirectoryAndReloadedSectionsGoToLaterLoads() throws {
        let directory = (config as NSString).deletingLastPathComponent
        try FileManager.default.copyItem(atPath: v2, toPath: "\(directory)/libprobe-local.so")
        let host = try start(["probe": ["n": 1], "host": ["modules": ["probe": ["path": "libprobe-local.so"]]]])
        #expect(try host.call("probe.version") == "2.0.0")
        #expect(try host.call("probe.config") == ["n": 1])
        // A reload reads the section again; the running module keeps its own until it is loaded again.
        try writeConfig(["probe": ["n": 2], "host": ["modules": ["probe": ["path": "libprobe-local.so"]]]])
        #expect(try host.call("host.reloadConfig")["unchanged"] == ["probe"])
        #expect(try host.call("probe.config") == ["n": 1])
        try host.call("modules.unload", ["id": "probe"])
        try host.call("modules.load", ["path": .string("\(directory)/libprobe-local.so")])
        #expect(try host.call("probe.config") == ["n": 2])
        #expect(try host.shutdown() == 0)
    }

    @Test func aBadEditChangesNothingAndTheErrorNamesTheKey() throws {
        let host = try start(hostModules(["probe": ["path": .string(v2), "mode": "shadow"]]))
        let cases: [(JSON, String)] = [
            (hostModules(["probe": ["path": .string(v2), "mode": "mirror"]]), "\"host.modules.probe.mode\" must be \"serve\", \"shadow\" or \"canary\""),
            (hostModules(["probe": ["path": .string(v2), "mode": "canary", "percent": 12.5]]), "\"host.modules.probe.percent\" must be a whole number from 0 to 100"),
            (hostModules(["probe": ["path": .string(v2), "percnt": 10]]), "unknown key \"host.modules.probe.percnt\""),
            (hostModules(["probe": ["path": 5]]), "\"host.modules.probe.path\" must be a non-empty string"),
            (hostModules(["probe": ["path": .string("\(elsewhere)/nosuch.so")]]), "\"host.modules.probe.path\": \(elsewhere)/nosuch.so: No such file or directory"),
            (["host": ["modlues": [:]]], "unknown key \"host.modlues\""),
        ]
        for (bad, message) in cases {
            try writeConfig(bad)
            let error = try host.expectFailure("host.reloadConfig")
            #expect(error["code"] == -32005)
            #expect(error["message"].string?.contains(message) == true, "\(error)")
            #expect(error["message"].string?.contains("nothing was changed") == true, "\(error)")
            #expect(try host.call("modules.describe", ["id": "probe"])["shadow"]["version"] == "2.0.0")
            #expect(try host.call("probe.version") == "1.0.0")
        }
        // SIGHUP with a bad file: logged, nothing changes, the host serves on.
        host.signal(SIGHUP)
        let line = try host.waitForStderr(containing: "SIGHUP: config file")
        #expect(line.contains("unknown key \"host.modlues\""), "\(line)")
        #expect(try host.call("probe.ping") == "pong")
        #expect(try host.shutdown() == 0)
    }

    @Test func aBadHostSectionStopsTheStartNamingTheKey() throws {
        try writeConfig(hostModules(["probe": ["path": .string(v2), "mode": "blue"]]))
        let host = try HostProcess(plugins: plugins, extraArguments: ["--config", config])
        #expect(try host.waitForExit() == 64)
        #expect(host.stderrText.contains("config file \(config): \"host.modules.probe.mode\" must be \"serve\", \"shadow\" or \"canary\", got \"blue\""),
                "\(host.stderrText)")
    }

    @Test func aCanaryEntryStartsStepsAndPromotesTheCanary() throws {
        // Builds that may run as a canary (MH_FLAG_MULTI_INSTANCE), in their own directories.
        let multi = "-DPROBE_FLAGS=(MH_FLAG_UNLOADABLE|MH_FLAG_MULTI_INSTANCE)"
        let directory = try TestPlugins.directory()
        try TestPlugins.probe(into: directory, defines: [multi])
        let next = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so", defines: [multi])
        func entry(_ fields: [String: JSON]) -> JSON { hostModules(["probe": .object(["path": .string(next)].merging(fields) { $1 })]) }
        try writeConfig(entry(["mode": "canary", "percent": 10, "stickyKey": "/sessionId"]))
        let host = try HostProcess(plugins: directory, extraArguments: ["--config", config])
        var canary = try host.call("modules.describe", ["id": "probe"])["canary"]
        #expect(canary["version"] == "2.0.0")
        #expect(canary["percent"] == 10)
        // An edited percent steps the running canary.
        try writeConfig(entry(["mode": "canary", "percent": 50, "stickyKey": "/sessionId"]))
        let stepped = try host.call("host.reloadConfig")
        #expect(stepped["applied"][0]["action"] == "stepped", "\(stepped)")
        canary = try host.call("modules.describe", ["id": "probe"])["canary"]
        #expect(canary["percent"] == 50)
        // "serve" naming the canary's file promotes it.
        try writeConfig(entry(["mode": "serve"]))
        let promoted = try host.call("host.reloadConfig")
        #expect(promoted["applied"][0]["action"] == "promoted", "\(promoted)")
        let described = try host.call("modules.describe", ["id": "probe"])
        #expect(described["canary"] == .null)
        #expect(described["version"] == "2.0.0")
        #expect(try host.call("probe.version", ["sessionId": "x"]) == "2.0.0")
        #expect(try host.shutdown() == 0)
    }

    /// A canary the config started, promoted by hand, is pinned; a restart with the same config
    /// serves it alone: the entry's file is what serves, so there is no canary to start.
    @Test func aPromotedCanaryIsNotStartedAsACanaryOfItselfAfterARestart() throws {
        let multi = "-DPROBE_FLAGS=(MH_FLAG_UNLOADABLE|MH_FLAG_MULTI_INSTANCE)"
        let directory = try TestPlugins.directory()
        try TestPlugins.probe(into: directory, defines: [multi])
        let next = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-2.so", defines: [multi])
        try writeConfig(hostModules(["probe": ["path": .string(next), "mode": "canary", "percent": 10]]))
        let host = try HostProcess(plugins: directory, extraArguments: ["--config", config])
        #expect(try host.call("modules.describe", ["id": "probe"])["canary"]["version"] == "2.0.0")
        try host.call("modules.canary", ["id": "probe", "percent": 100])
        #expect(try host.shutdown() == 0)

        let restarted = try HostProcess(plugins: directory, state: host.stateDirectory, extraArguments: ["--config", config])
        let described = try restarted.call("modules.describe", ["id": "probe"])
        #expect(described["version"] == "2.0.0", "the promotion is pinned")
        #expect(described["canary"] == .null, "\(described)")
        #expect(try restarted.waitForStderr(containing: "host.modules.probe (canary): unchanged").isEmpty == false)
        // An edit of the entry, the file unchanged, still has nothing to start.
        try writeConfig(hostModules(["probe": ["path": .string(next), "mode": "canary", "percent": 20]]))
        #expect(try restarted.call("host.reloadConfig")["applied"][0]["action"] == "unchanged")
        #expect(try restarted.call("modules.describe", ["id": "probe"])["canary"] == .null)
        #expect(try restarted.shutdown() == 0)
    }

    /// The gate rolls back a canary the config started; a restart with the same, unchanged
    /// config serves v1 alone (the rollback is kept); an edited entry tries the canary again.
    @Test func aCanaryRolledBackByItsGateStaysRolledBackAcrossARestart() throws {
        let multi = "-DPROBE_FLAGS=(MH_FLAG_UNLOADABLE|MH_FLAG_MULTI_INSTANCE)"
        let directory = try TestPlugins.directory()
        try TestPlugins.probe(into: directory, defines: [multi])
        let failing = try TestPlugins.probe(into: try TestPlugins.directory(), version: "2.0.0", name: "libprobe-failing.so",
                                            defines: [multi, "-DPROBE_FAIL_EVERY=2"])
        let canaryEntry: JSON = ["path": .string(failing), "mode": "canary", "percent": 50, "gates": ["minCalls": 20, "maxErrorRateDelta": 0.01]]
        try writeConfig(hostModules(["probe": canaryEntry]))
        let arguments = ["--config", config, "--manual-clock"]
        let host = try HostProcess(plugins: directory, extraArguments: arguments)
        #expect(try host.call("modules.describe", ["id": "probe"])["canary"]["version"] == "2.0.0")
        try host.call("events.subscribe", ["topics": ["modules.rolled_back"]])
        for n in 0..<200 { _ = try host.request("probe.seq", [.int(Int64(n))]) }
        _ = try host.advanceClock(by: 60_000)
        #expect(try host.nextEvent(topic: "modules.rolled_back")["data"]["mode"] == "canary")
        #expect(try host.shutdown() == 0)

        let restarted = try HostProcess(plugins: directory, state: host.stateDirectory, extraArguments: arguments)
        #expect(try restarted.call("modules.describe", ["id": "probe"])["canary"] == .null)
        #expect(try (0..<50).allSatisfy { try restarted.call("probe.seq", [.int(Int64($0))]) == .int(Int64($0)) }, "v1 alone serves")
        _ = try restarted.waitForStderr(containing: "it was rolled back and the file is unchanged")
        // Asking again (an edited entry) starts it again.
        try writeConfig(hostModules(["probe": ["path": .string(failing), "mode": "canary", "percent": 10]]))
        let report = try restarted.call("host.reloadConfig")
        #expect(report["applied"][0]["action"] == "canary", "\(report)")
        #expect(try restarted.call("modules.describe", ["id": "probe"])["canary"]["percent"] == 10)
        #expect(try restarted.shutdown() == 0)
    }

    @Test func withoutConfigReloadIsRefused() throws {
        let host = try HostProcess(plugins: plugins)
        let error = try host.expectFailure("host.reloadConfig")
        #expect(error["code"] == -32005)
        #expect(error["message"].string?.contains("without --config") == true)
        #expect(try host.shutdown() == 0)
    }
}
