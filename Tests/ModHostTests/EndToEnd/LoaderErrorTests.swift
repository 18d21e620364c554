import Foundation
import ModHostTestKit
import Testing

/// `Fixtures/broken.c` built with `defines` into `directory` (default: a fresh one).
private func buildFixture(_ defines: [String] = [], in directory: String? = nil, name: String = "libfixture.so") throws -> String {
    try TestPlugins.broken(into: directory ?? TestPlugins.directory(), name: name, defines: defines)
}

/// A plugin file with one thing wrong, and the phrases the host's refusal must contain
/// (`{dir}` stands for the name of the directory holding the file).
struct BrokenPlugin: Sendable, CustomTestStringConvertible {
    let name: String
    let phrases: [String]
    /// Makes the file in the given (fresh, private) directory and returns its path.
    let make: @Sendable (String) throws -> String

    var testDescription: String { name }

    /// `Fixtures/broken.c` built with `defines`.
    static func fixture(_ name: String, _ defines: [String], phrases: [String]) -> BrokenPlugin {
        BrokenPlugin(name: name, phrases: phrases) { directory in
            try buildFixture(defines, in: directory, name: "lib\(name).so")
        }
    }

    enum Target { case file, directory }

    /// A working fixture whose file or directory is then given `mode`.
    static func writable(_ name: String, chmod mode: Int, of target: Target, phrases: [String]) -> BrokenPlugin {
        BrokenPlugin(name: name, phrases: phrases) { directory in
            let path = try buildFixture(in: directory)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target == .file ? path : directory)
            return path
        }
    }

    static let all: [BrokenPlugin] = [
        BrokenPlugin(name: "text file named .so", phrases: ["not a shared object", "not an ELF file"]) { directory in
            let path = "\(directory)/libtext.so"
            try "this is not a library\n".write(toFile: path, atomically: true, encoding: .utf8)
            return path
        },
        fixture("no-entry", ["-DMH_FIXTURE_NO_ENTRY"], phrases: ["mh_plugin_entry"]),
        fixture("null-descriptor", ["-DMH_FIXTURE_NULL_DESCRIPTOR"], phrases: ["mh_plugin_entry", "returned NULL"]),
        fixture("abi-major-2", ["-DMH_FIXTURE_ABI_MAJOR=2"], phrases: ["2.0", "1.2"]),
        // A struct too small for what the host needs, an export entry with a bad size: the
        // struct, its size, the field, both versions (the file is in data.file).
        fixture("struct-size-16", ["-DMH_FIXTURE_STRUCT_SIZE=16"],
                phrases: ["mh_plugin", "struct_size 16", "field version", "plugin says ABI 1.0", "host speaks ABI 1.2"]),
        fixture("struct-size-1.0-minus-8", ["-DMH_FIXTURE_STRUCT_SIZE=120", "-DMH_FIXTURE_ABI_MINOR=1"],
                phrases: ["mh_plugin", "struct_size 120", "field import_state", "plugin says ABI 1.1", "host speaks ABI 1.2"]),
        fixture("export-entry-size-56", ["-DMH_FIXTURE_EXPORT_SIZE=56"],
                phrases: ["exports[0] (mh_export)", "struct_size 56, not 48", "exports_v2", "plugin says ABI 1.0", "host speaks ABI 1.2"]),
        fixture("export-entry-size-40", ["-DMH_FIXTURE_EXPORT_SIZE=40"],
                phrases: ["exports[0] (mh_export)", "struct_size 40", "field release", "host speaks ABI 1.2"]),
        fixture("export-v2-entry-size-40", ["-DMH_FIXTURE_EXPORT_V2_SIZE=40"],
                phrases: ["exports_v2[0] (mh_export_v2)", "struct_size 40", "field release", "plugin says ABI 1.0", "host speaks ABI 1.2"]),
        fixture("bad-id", ["-DMH_FIXTURE_ID=\"Bad Id!\""], phrases: ["malformed", "Bad Id!"]),
        fixture("no-id", ["-DMH_FIXTURE_ID=NULL"], phrases: ["id", "missing"]),
        fixture("unmet-requirement", ["-DMH_FIXTURE_REQUIRES=\"nosuchmodule\""], phrases: ["nosuchmodule"]),
        fixture("init-fails", ["-DMH_FIXTURE_INIT_FAILS=\"database unreachable: connection refused\""],
                phrases: ["init", "database unreachable: connection refused"]),
        fixture("start-fails", ["-DMH_FIXTURE_START_FAILS=\"port 8080 already in use\""],
                phrases: ["start", "port 8080 already in use"]),
        writable("world-writable file", chmod: 0o666, of: .file, phrases: ["writable by anyone"]),
        writable("world-writable directory", chmod: 0o777, of: .directory, phrases: ["writable by anyone", "{dir}"]),
    ]
}

/// Everything that can be wrong with a plugin file gets its own clear `-32003` and leaves the host
/// serving (DESIGN.md, Loading).
@Suite struct LoaderErrorTests {
    let host: HostProcess

    /// A host serving the C example echo plugin.
    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        host = try HostProcess(plugins: plugins)
    }

    /// Loads `path`, expects `-32003` whose message and `data.reason` contain every phrase and whose
    /// `data.file` is the file, then checks the host still serves with exactly `running` loaded.
    private func expectRefused(
        _ path: String, phrases: [String], running: Set<String> = ["echo"], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let error = try host.expectFailure("modules.load", ["path": .string(path)])
        #expect(error["code"] == -32003, "\(error)", sourceLocation: sourceLocation)
        let message = error["message"].string ?? ""
        let reason = error["data"]["reason"].string ?? ""
        for phrase in phrases {
            #expect(reason.contains(phrase), "data.reason \"\(reason)\" should name \"\(phrase)\"", sourceLocation: sourceLocation)
            #expect(message.contains(phrase), "message \"\(message)\" should name \"\(phrase)\"", sourceLocation: sourceLocation)
        }
        #expect(error["data"]["file"] == .string(path), sourceLocation: sourceLocation)
        try expectServing(running: running, sourceLocation: sourceLocation)
    }

    private func expectServing(running: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try host.call("echo.ping") == "pong", sourceLocation: sourceLocation)
        let states = try host.moduleStates()
        #expect(Set(states.keys) == running, "host.status lists \(states)", sourceLocation: sourceLocation)
        #expect(states.values.allSatisfy { $0 == "running" }, "\(states)", sourceLocation: sourceLocation)
    }

    @Test(arguments: BrokenPlugin.all)
    func brokenPluginIsRefusedWithItsReason(_ plugin: BrokenPlugin) throws {
        let directory = try TestPlugins.directory()
        let path = try plugin.make(directory)
        try expectRefused(path, phrases: plugin.phrases.map { $0.replacingOccurrences(of: "{dir}", with: (directory as NSString).lastPathComponent) })
    }

    @Test func instanceWhoseStartFailedIsDestroyed() throws {
        let path = try buildFixture(["-DMH_FIXTURE_START_FAILS=\"no\""])
        try expectRefused(path, phrases: ["no"])
        try host.waitForStderr(containing: "destroyed fixture")
    }

    @Test func sameIDTwiceIsRefused() throws {
        let first = try buildFixture()
        let second = try buildFixture(name: "libfixture-copy.so")
        #expect(try host.call("modules.load", ["path": .string(first)])["id"] == "fixture")
        try expectRefused(second, phrases: ["fixture", "already loaded"], running: ["echo", "fixture"])
        try expectRefused(first, phrases: ["fixture", "already loaded"], running: ["echo", "fixture"])
        #expect(try host.call("fixture.ping") == "pong")
    }

    @Test(arguments: [["-DMH_FIXTURE_ABI_MINOR=5"], ["-DMH_FIXTURE_ABI_MINOR=5", "-DMH_FIXTURE_STRUCT_SIZE=200"]])
    func newerMinorOfTheSameMajorLoads(defines: [String]) throws {
        let path = try buildFixture(defines)
        let loaded = try host.call("modules.load", ["path": .string(path)])
        #expect(loaded["id"] == "fixture")
        #expect(loaded["abiVersion"] == "1.5")
        #expect(try host.call("fixture.ping") == "pong")
        try expectServing(running: ["echo", "fixture"])
    }
}

/// A plugin directory with broken files among good ones: the good ones start, the broken ones
/// are skipped with an error naming the file, and the host serves.
@Suite struct StartupWithBrokenPluginsTests {
    @Test func goodPluginsLoadAndBrokenOnesAreSkippedByName() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        try TestPlugins.probe(into: plugins)
        let broken = try ["text file named .so", "no-entry", "abi-major-2", "init-fails", "unmet-requirement"].map { name in
            let plugin = try #require(BrokenPlugin.all.first { $0.name == name })
            return try plugin.make(plugins)
        }
        let host = try HostProcess(plugins: plugins)

        #expect(try host.moduleStates() == ["echo": "running", "probe": "running"])
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.call("probe.whoami") == "probe")
        let stderr = try host.waitForStderr(containing: "ready")
        for file in broken {
            // Log lines quote at most the last 40 characters of a path: the file name is there.
            let name = URL(fileURLWithPath: file).lastPathComponent
            let lines = stderr.split(separator: "\n").filter { $0.contains(name) }
            #expect(lines.contains { $0.contains("error") }, "no error line names \(file):\n\(stderr)")
        }
        #expect(try host.shutdown() == 0)
    }
}
