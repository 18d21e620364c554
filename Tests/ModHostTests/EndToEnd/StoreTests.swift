import Foundation
import ModHostTestKit
import Testing

/// Each module's persistent store through the real host: it survives a restart and a killed host,
/// lists in key order, deletes, and keeps modules apart (DESIGN.md, State).
@Suite struct StoreTests {
    /// Probes `p1` and `p2` and the echo example.
    let plugins: String

    init() throws {
        plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        try TestPlugins.probe(into: plugins, id: "p2")
        try TestPlugins.echo(into: plugins)
    }

    /// A host on `state` (nil: a fresh state directory).
    private func startHost(state: String? = nil) throws -> HostProcess {
        try HostProcess(plugins: plugins, state: state)
    }

    /// Kills `host` with SIGKILL (no shutdown, no flush) and starts a new one on its state.
    private func killAndRestart(_ host: HostProcess) throws -> HostProcess {
        host.signal(SIGKILL)
        #expect(try host.waitForExit() == SIGKILL, "the host should have died of SIGKILL")
        return try startHost(state: host.stateDirectory)
    }

    private func put(_ host: HostProcess, _ module: String, _ entries: KeyValuePairs<String, String>) throws {
        for (key, value) in entries {
            #expect(try host.call("\(module).store_put", ["key": .string(key), "value": .string(value)]) == true)
        }
    }

    private func get(_ host: HostProcess, _ module: String, _ key: String) throws -> JSON {
        try host.call("\(module).store_get", ["key": .string(key)])
    }

    private func list(_ host: HostProcess, _ module: String, prefix: String? = nil) throws -> [JSON] {
        let params: JSON = prefix.map { ["prefix": .string($0)] } ?? [:]
        return try #require(host.call("\(module).store_list", params).array)
    }

    @Test func valuesSurviveAKilledHost() throws {
        let first = try startHost()
        try put(first, "p1", ["user.bob": "2", "user.alice": "1", "other": "x", "user.carol": "3"])

        let second = try killAndRestart(first)
        #expect(try get(second, "p1", "user.alice") == "1")
        #expect(try get(second, "p1", "user.bob") == "2")
        #expect(try get(second, "p1", "other") == "x")
        #expect(try get(second, "p1", "never-written") == .null)
        #expect(try list(second, "p1", prefix: "user.") == [
            ["key": "user.alice", "value": "1"], ["key": "user.bob", "value": "2"], ["key": "user.carol", "value": "3"],
        ])
        #expect(try list(second, "p1").compactMap { $0["key"].string } == ["other", "user.alice", "user.bob", "user.carol"])
        #expect(try second.shutdown() == 0)
    }

    @Test func overwriteAndDeleteAreDurable() throws {
        let first = try startHost()
        try put(first, "p1", ["keep": "old", "drop": "gone soon"])
        try put(first, "p1", ["keep": "new"])
        #expect(try first.call("p1.store_delete", ["key": "drop"]) == true)
        #expect(try get(first, "p1", "drop") == .null)

        let second = try killAndRestart(first)
        #expect(try get(second, "p1", "keep") == "new")
        #expect(try get(second, "p1", "drop") == .null)
        #expect(try list(second, "p1") == [["key": "keep", "value": "new"]])
        #expect(try second.call("p1.store_delete", ["key": "absent"]) == true, "deleting an absent key is not an error")
    }

    @Test func modulesDoNotSeeEachOthersValues() throws {
        let host = try startHost()
        try put(host, "p1", ["shared": "from p1", "only-p1": "1"])
        try put(host, "p2", ["shared": "from p2"])

        #expect(try get(host, "p1", "shared") == "from p1")
        #expect(try get(host, "p2", "shared") == "from p2")
        #expect(try get(host, "p2", "only-p1") == .null)
        #expect(try list(host, "p2") == [["key": "shared", "value": "from p2"]])
        #expect(try host.call("p2.store_delete", ["key": "shared"]) == true)
        #expect(try get(host, "p1", "shared") == "from p1", "p2's delete must not reach p1's key")
    }

    @Test func echoCountSurvivesARestart() throws {
        let first = try startHost()
        for expected: JSON in [1, 2, 3] {
            #expect(try first.call("echo.count") == expected)
        }
        #expect(try first.shutdown() == 0)

        let second = try startHost(state: first.stateDirectory)
        #expect(try second.call("echo.get_count") == 3)
        #expect(try second.call("echo.count") == 4)
        let third = try killAndRestart(second)
        #expect(try third.call("echo.get_count") == 4)
    }
}
