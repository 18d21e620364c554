import CModHost
import Foundation
import ModHostTestKit
import Testing

/// The ABI header compiles cleanly as strict C11 and as C++, and the plugin in its overview
/// comment builds into a library exporting only `mh_plugin_entry`.
@Suite struct HeaderTests {
    static let header = PluginBuilder.includeDirectory + "/modhost.h"

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run("/usr/bin/env", arguments, stdin: .inherit, stderr: .sameAsStdout)
        return (result.status, result.out)
    }

    @Test func compilesAsStrictC11() throws {
        let result = try run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c", Self.header])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func compilesAsCPlusPlus() throws {
        let result = try run(["c++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c++", Self.header])
        #expect(result.status == 0, "\(result.output)")
    }

    /// `MH_ABI_VERSION` is a plain literal (Swift imports it), so a static assertion ties it to
    /// MAJOR and MINOR: a header where one was bumped without the other does not compile.
    @Test func abiVersionMustMatchMajorAndMinor() throws {
        #expect(MH_ABI_VERSION == (UInt32(MH_ABI_MAJOR) << 16 | UInt32(MH_ABI_MINOR)))
        let text = try String(contentsOfFile: Self.header, encoding: .utf8)
        #expect(text.contains("#define MH_ABI_MINOR \(MH_ABI_MINOR)\n"))
        let directory = try TemporaryDirectory.make()
        let bumped = "\(directory)/modhost.h"
        try text.replacingOccurrences(of: "#define MH_ABI_MINOR \(MH_ABI_MINOR)\n", with: "#define MH_ABI_MINOR \(MH_ABI_MINOR + 1)\n")
            .write(toFile: bumped, atomically: true, encoding: .utf8)
        for compiler in [["cc", "-std=c11", "-x", "c"], ["c++", "-std=c++11", "-x", "c++"], ["cc", "-std=c99", "-x", "c"]] {
            let result = try run(compiler + ["-fsyntax-only", bumped])
            #expect(result.status != 0, "\(compiler): a mismatched MH_ABI_VERSION compiled")
        }
    }

    /// MH_HAS tells a plugin which host-table functions and init-info fields the host's structs
    /// cover: on a 1.1 host (a table ending after timer_cancel) the 1.2 services are absent.
    @Test func mhHasReadsTheHostsStructSize() throws {
        let source = #"""
            #include "modhost.h"
            #include <stdio.h>
            int main(void) {
                mh_host_api v11 = {0}, v12 = {0};
                mh_init_info info11 = {0}, info12 = {0};
                v11.struct_size = (uint32_t)offsetof(mh_host_api, call_v2);
                v12.struct_size = sizeof(mh_host_api);
                info11.struct_size = (uint32_t)offsetof(mh_init_info, flags);
                info12.struct_size = sizeof(mh_init_info);
                printf("%d%d%d%d %d%d%d %d%d\n", MH_HAS(&v11, log), MH_HAS(&v11, timer_cancel), MH_HAS(&v11, call_v2),
                       MH_HAS(&v11, notify_client), MH_HAS(&v12, call_v2), MH_HAS(&v12, call_client),
                       MH_HAS(&v12, notify_client), MH_HAS(&info11, flags), MH_HAS(&info12, flags));
                return 0;
            }
            """#
        let directory = try TemporaryDirectory.make()
        try source.write(toFile: "\(directory)/has.c", atomically: true, encoding: .utf8)
        let build = try run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", PluginBuilder.includeDirectory,
                             "\(directory)/has.c", "-o", "\(directory)/has"])
        try #require(build.status == 0, "\(build.output)")
        let result = try run(["\(directory)/has"])
        #expect(result.output == "1100 111 01\n")
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
