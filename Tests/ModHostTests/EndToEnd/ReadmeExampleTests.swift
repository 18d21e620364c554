import Foundation
import ModHostTestKit
@testable import ModHost
import Testing

/// What a newcomer reads first (issue 10, item 4): `modhost --help` and the README's Python
/// client, checked against the real binary so that neither can go stale.
@Suite struct ReadmeExampleTests {
    /// Runs the real binary with `arguments`; its stdout, stderr and exit status.
    private func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> (out: String, err: String, status: Int32) {
        let result = try ChildProcess.run(executable, arguments, directory: directory)
        return (result.out, result.err, result.status)
    }

    /// `--help` shows two example requests (each a valid JSON-RPC 2.0 request) and every host
    /// method of the catalog the host serves from.
    @Test func helpShowsExampleRequestsAndTheHostMethods() throws {
        let help = try run(try HostProcess.locateExecutable().path, ["--help"])
        #expect(help.status == 0)
        let examples = help.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("{\"jsonrpc\"") }
        #expect(examples.count == 2, "\(help.out)")
        for example in examples {
            let request = try JSON(parsing: example)
            #expect(request["jsonrpc"] == "2.0" && request["id"] != .null && request["method"].string != nil, "\(example)")
        }
        for entry in HostMethodCatalog.entries {
            #expect(help.out.contains("  \(entry.name)"), "--help should list \(entry.name)")
            #expect(entry.summary.count <= 50, "\(entry.name)'s summary would wrap in 80 columns")
        }
        #expect(!help.out.split(separator: "\n").contains { $0.count > 80 }, "\(help.out)")
    }

    /// Every method of the catalog is served (none answers "Method not found"), and a host
    /// method that is not in it is not: the list in `--help` is the list the host serves.
    @Test func theCatalogIsWhatTheHostServes() throws {
        let host = try HostProcess(plugins: try TestPlugins.directory(), extraArguments: ["--manual-clock"])
        for entry in HostMethodCatalog.entries where entry.name != "host.shutdown" {
            let answer = try host.request(entry.name, ["bogus": true])
            #expect(answer["error"]["code"] != -32601, "\(entry.name): \(answer.text)")
        }
        #expect(try host.expectFailure("host.bogus")["code"] == -32601)
        #expect(try host.shutdown() == 0)
    }

    /// The README's methods table lists exactly the catalog's host methods.
    @Test func theReadmeMethodsTableListsTheHostMethods() throws {
        let readme = try String(contentsOf: TestPlugins.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let table = readme.components(separatedBy: "### Methods").dropFirst().first ?? ""
        let listed = table.split(separator: "\n").prefix { !$0.hasPrefix("Module states") }
            .compactMap { row -> String? in
                guard row.hasPrefix("| `"), let end = row.dropFirst(3).firstIndex(of: "`") else { return nil }
                return String(row[row.index(row.startIndex, offsetBy: 3)..<end])
            }
            .filter { !$0.hasPrefix("<") }
        #expect(listed == HostMethodCatalog.entries.map(\.name))
    }

    /// The README's Python client, extracted from the README and run against the real host: it
    /// matches responses by id and sets aside the event that arrives before `events.publish`'s
    /// response.
    @Test func theReadmePythonExampleRuns() throws {
        let readme = try String(contentsOf: TestPlugins.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let afterHeading = try #require(readme.components(separatedBy: "From Python:").dropFirst().first)
        let block = try #require(afterHeading.components(separatedBy: "```python\n").dropFirst().first?.components(separatedBy: "```\n").first)
        let original = #"[".build/debug/modhost"]"#
        #expect(block.contains(original), "the example starts the host as \(original)")
        let state = try TemporaryDirectory.make(prefix: "modhost-state")
        let binary = try HostProcess.locateExecutable().path
        let script = block.replacingOccurrences(of: original, with: "[\(JSON.string(binary).text), \"--state-dir\", \(JSON.string(state).text), \"--no-watch\"]")
        let directory = try TemporaryDirectory.make(prefix: "modhost-readme")
        try Data(script.utf8).write(to: URL(fileURLWithPath: "\(directory)/example.py"))
        let result = try run("/usr/bin/env", ["python3", "example.py"], directory: directory)
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(result.out == "7\n['demo.hello']\n", "\(result.out)\n\(result.err)")
    }
}
