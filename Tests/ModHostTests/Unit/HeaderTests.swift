import Foundation
import ModHostTestKit
import Testing

/// The ABI header compiles cleanly as strict C11 and as C++, and the plugin in its overview
/// comment builds into a library exporting only `mh_plugin_entry`.
@Suite struct HeaderTests {
    static let header = PluginBuilder.includeDirectory + "/modhost.h"

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func compilesAsStrictC11() throws {
        let result = try run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c", Self.header])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func compilesAsCPlusPlus() throws {
        let result = try run(["c++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c++", Self.header])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func overviewExampleBuildsAndExportsOnlyTheEntry() throws {
        let text = try String(contentsOfFile: Self.header, encoding: .utf8)
        // The example sits in the overview comment between its #include and the entry definition.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.contains("#include \"modhost.h\"") })
        let end = try #require(lines[start...].firstIndex { $0.contains("MH_EXPORT const mh_plugin *mh_plugin_entry") })
        let source = lines[start...end].map { line in
            line.replacingOccurrences(of: #"^ \*( {4})?"#, with: "", options: .regularExpression)
        }.joined(separator: "\n")
        let directory = try TemporaryDirectory.make()
        try source.write(toFile: "\(directory)/ping.c", atomically: true, encoding: .utf8)
        try PluginBuilder.buildC(source: "\(directory)/ping.c", output: "\(directory)/libping.so")
        let symbols = try run(["nm", "-D", "--defined-only", "\(directory)/libping.so"])
        let exported = symbols.output.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" }
        #expect(exported == ["mh_plugin_entry"])
    }
}
