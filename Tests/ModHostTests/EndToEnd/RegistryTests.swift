import Foundation
import ModHostTestKit
import Testing

/// The registry through the real host: dependency order, cycles, version ranges, unloading what
/// others require, generations, and what `modules.list` / `modules.describe` show
/// (DESIGN.md, Registry).
@Suite struct RegistryTests {
    /// A plugin directory holding probes `a`, `b` (requires a) and `c` (requires b), named so that
    /// the alphabetical order of the files is the reverse of the dependency order.
    private func chainDirectory() throws -> String {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "c", requires: ["b"], name: "lib1-c.so")
        try TestPlugins.probe(into: plugins, id: "b", requires: ["a"], name: "lib2-b.so")
        try TestPlugins.probe(into: plugins, id: "a", name: "lib3-a.so")
        return plugins
    }

    /// A host whose plugin directory holds one probe per id, with its requirements.
    private func startHost(probes: KeyValuePairs<String, [String]>) throws -> HostProcess {
        let plugins = try TestPlugins.directory()
        for (id, requires) in probes {
            try TestPlugins.probe(into: plugins, id: id, requires: requires)
        }
        return try HostProcess(plugins: plugins)
    }

    /// The stderr line indexes of `"<what> <id>"` for each id, in the order given.
    private func logIndexes(_ host: HostProcess, _ what: String, _ ids: [String]) throws -> [Int] {
        try ids.map { id in
            try host.waitForStderr(containing: "\(what) \(id)")
            return try #require(host.stderrLineIndex(endingWith: " \(what) \(id)"), "no line \"\(what) \(id)\"")
        }
    }

    /// The words of a message, so that a one-letter id can be looked for.
    private func words(_ message: JSON) -> Set<String> {
        Set((message.string ?? "").split { !$0.isLetter && !$0.isNumber }.map(String.init))
    }

    @Test func startsInDependencyOrderAndStopsInReverse() throws {
        let host = try HostProcess(plugins: chainDirectory())
        #expect(try host.moduleStates() == ["a": "running", "b": "running", "c": "running"])
        let started = try logIndexes(host, "started", ["a", "b", "c"])
        #expect(started == started.sorted(), "start order (stderr lines a, b, c): \(started)\n\(host.stderrText)")

        #expect(try host.shutdown() == 0)
        let stopped = try logIndexes(host, "stopped", ["c", "b", "a"])
        #expect(stopped == stopped.sorted(), "stop order (stderr lines c, b, a): \(stopped)\n\(host.stderrText)")
        #expect(stopped.allSatisfy { $0 > started.max()! })
    }

    /// End of input finishes what is in flight: a `modules.load` sent just before it is answered,
    /// and the module it started is stopped like the others.
    @Test func loadInFlightAtEndOfInputIsAnsweredAndStopped() throws {
        let host = try startHost(probes: [:])
        let path = try TestPlugins.probe(into: TestPlugins.directory())
        let id = JSON.int(Int64(host.takeID()))
        try host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": "modules.load", "params": ["path": .string(path)]]).text)

        #expect(try host.shutdown() == 0)
        let answer = host.stdoutLines.compactMap { try? JSON(parsing: $0) }.first { $0["id"] == id }
        #expect(answer?["result"]["id"] == "probe", "the load sent before end of input was not answered: \(host.stdoutLines)")
        if host.stderrText.contains("started probe") {
            #expect(throws: Never.self, "probe was started but never stopped") { try host.waitForStderr(containing: "stopped probe", timeout: 5) }
        }
    }

    @Test func dependencyCycleIsRefusedNamingBothWhileAnUnrelatedModuleLoads() throws {
        let host = try startHost(probes: ["x": ["y"], "y": ["x"], "z": []])

        #expect(try host.moduleStates() == ["z": "running"])
        #expect(try host.call("z.ping") == "pong")
        #expect(try host.expectFailure("x.ping")["code"] == -32601)
        // Both files' lines are logged before "ready:" (stderr is a pipe of its own: wait for it).
        let stderr = try host.waitForStderr(containing: "ready:")
        let cycles = stderr.split(separator: "\n").compactMap { line in
            line.range(of: "dependency cycle: ").map { line[$0.upperBound...] }
        }
        #expect(!cycles.isEmpty)
        for cycle in cycles {
            let ids = Set(cycle.components(separatedBy: " -> ").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(ids == ["x", "y"], "the cycle should name x and y: \(cycle)")
        }
        for file in ["libx.so", "liby.so"] {
            #expect(stderr.split(separator: "\n").contains { $0.contains(file) && $0.contains("dependency cycle") }, "\(file) not named")
        }
    }

    @Test func unmetVersionConstraintIsRefusedNamingIt() throws {
        let host = try startHost(probes: ["a": []])
        let needy = try TestPlugins.probe(into: TestPlugins.directory(), id: "needy", requires: ["a >=2"])

        let error = try host.expectFailure("modules.load", ["path": .string(needy)])
        #expect(error["code"] == -32003)
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.contains("a >=2"), "\(reason)")
        #expect(reason.contains("1.0.0"), "the reason should say which version is there: \(reason)")
        #expect(try host.moduleStates() == ["a": "running"])

        let satisfied = try TestPlugins.probe(into: TestPlugins.directory(), id: "content", requires: ["a >=1 <2"])
        #expect(try host.call("modules.load", ["path": .string(satisfied)])["requires"] == ["a >=1 <2"])
        #expect(try host.moduleStates() == ["a": "running", "content": "running"])
    }

    @Test func unloadingARequiredModuleIsRefusedUnlessForced() throws {
        let host = try startHost(probes: ["a": [], "b": ["a"]])
        let refused = try host.expectFailure("modules.unload", ["id": "a"])
        #expect(refused["code"] == -32005)
        #expect(words(refused["message"]).contains("b"), "the refusal should name b: \(refused)")
        #expect(try host.call("a.ping") == "pong", "a refused unload must leave a serving")

        #expect(try host.call("modules.unload", ["id": "a", "force": true])["unloaded"] == "a")
        let gone = try host.expectFailure("a.ping")
        #expect(gone["code"] == -32601)
        #expect(words(gone["message"]).contains("a"), "\(gone)")
        #expect(try host.moduleStates()["a"] == nil)
        try host.waitForStderr(containing: "stopped a")
    }

    @Test func reloadingAModuleGivesTheNextGeneration() throws {
        let host = try startHost(probes: [:])
        let path = try TestPlugins.probe(into: TestPlugins.directory())
        #expect(try host.call("modules.load", ["path": .string(path)])["generation"] == 1)
        try host.call("modules.unload", ["id": "probe"])
        #expect(try host.expectFailure("modules.describe", ["id": "probe"])["code"] == -32602)
        try host.call("modules.load", ["path": .string(path)])

        let description = try host.call("modules.describe", ["id": "probe"])
        #expect(description["generation"] == 2)
        #expect(description["state"] == "running")
        #expect(try host.call("probe.ping") == "pong")
    }

    @Test func listAndDescribeShowModulesMethodsRequiresAndSubscriptions() throws {
        let host = try startHost(probes: ["a": [], "b": ["a >=1.0"]])

        let listed = try #require(host.call("modules.list")["modules"].array)
        #expect(Set(listed.compactMap { $0["id"].string }) == ["a", "b"])
        let b = try #require(listed.first { $0["id"] == "b" })
        #expect(b["version"] == "1.0.0")
        #expect(b["state"] == "running")
        #expect(b["generation"] == 1)

        let description = try host.call("modules.describe", ["id": "b"])
        #expect(description["requires"] == ["a >=1.0"])
        #expect(description["subscriptions"] == ["probe.in.*"])
        #expect(description["methods"] == [
            "ping", "whoami", "version", "sleep", "seq", "never", "call", "timer", "now",
            "store_put", "store_get", "store_list", "store_delete", "last_event", "config", "blob", "burst", "fail_with", "fired", "tid",
        ], "probe.c's methods, in descriptor order")
        #expect(try host.call("modules.describe", ["id": "a"])["requires"] == [])
    }

    @Test func callToAModuleThatIsNotLoadedIsMethodNotFoundNamingIt() throws {
        let host = try startHost(probes: ["probe": []])
        let error = try host.expectFailure("ghost.ping")
        #expect(error["code"] == -32601)
        #expect((error["message"].string ?? "").contains("ghost"), "\(error)")
        #expect(try host.call("probe.ping") == "pong")
    }
}
