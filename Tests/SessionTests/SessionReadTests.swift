import Foundation
import ModHostTestKit
import Testing

/// Context, readStream and the asciicast export (checked by asciinema itself).
@Suite struct SessionReadTests {
    @Test func contextIsCleanedAndCut() throws {
        let bench = try SessionBench()
        try bench.register("s")
        try bench.write("s", "make\r", direction: 0)
        try bench.write("s", "\u{1B}[32mbuilding\u{1B}[0m 10%\rbuilding 100%\r\n" + (0..<50).map { "line \($0)\r\n" }.joined())
        try bench.complete("s", "c1", "make", exitCode: 2)
        try bench.write("s", String(repeating: "é", count: 700) + "\r\n")
        try bench.complete("s", "c2", "cat wide")
        let context = try bench.host.call("session.context", ["sessionId": "s", "scope": "current"])
        let text = context["text"].string ?? ""
        #expect(text.hasPrefix("$ make  [exit 2]\nbuilding 100%\nline 0\n"), "\(text)")
        #expect(text.contains("… 11 lines left out …") && text.contains("line 49\n$ cat wide\n"))
        #expect(!text.contains("\u{1B}") && !text.contains("10%") && !text.contains("make\r"))
        #expect(text.hasSuffix(String(repeating: "é", count: 511) + "…"))
        #expect(context["commands"] == 2 && context["chars"] == .int(Int64(text.count)))
        let small = try bench.host.call("session.context", ["sessionId": "s", "scope": "all", "maxChars": 300])
        #expect((small["chars"].int ?? 999) <= 300, "\(small)")
        let bad = try bench.host.expectFailure("session.context", ["sessionId": "s", "scope": "everything"])
        #expect(bad["code"] == -32602 && bad["message"].string?.contains("scope") == true)
    }

    @Test func readStreamFiltersByTimeAndDirection() throws {
        let bench = try SessionBench()
        try bench.register("s")
        for (i, d) in [(1, 0), (2, 1), (3, 1), (4, 0)] { try bench.write("s", "r\(i)", at: Int64(i), direction: Int64(d)) }
        let out = try bench.host.call("session.readStream", ["sessionId": "s", "fromMs": 2, "toMs": 4, "direction": 1])
        #expect(out["records"].array?.map { $0["data"] } == [.string(Data("r2".utf8).base64EncodedString()), .string(Data("r3".utf8).base64EncodedString())])
        #expect(out["truncated"] == false)
    }

    @Test func theExportIsACastAsciinemaReadsBack() throws {
        let bench = try SessionBench()
        try bench.register("s", attrs: ["cols": "120", "rows": "40"])
        let euro = Array("€".utf8)
        try bench.writeBytes("s", Array("price: ".utf8) + euro.prefix(1), at: SessionBench.start)
        try bench.writeBytes("s", Array(euro.suffix(2)) + Array(" ok\r\n".utf8), at: SessionBench.start + 250)
        try bench.writeBytes("s", [0x62, 0x61, 0x64, 0xFF, 0x0D, 0x0A], at: SessionBench.start + 1_500)
        try bench.write("s", "exit\r", at: SessionBench.start + 2_000, direction: 0)
        let cast = try bench.host.call("session.export", ["sessionId": "s", "format": "asciicast-v2"])["cast"].string ?? ""
        let lines = cast.split(separator: "\n").map(String.init)
        let header = try JSON(parsing: lines[0])
        #expect(header["version"] == 2 && header["width"] == 120 && header["height"] == 40, "\(header)")
        #expect(lines.dropFirst().map { try? JSON(parsing: $0) } == [
            [0.0, "o", "price: "], [0.25, "o", "€ ok\r\n"], [1.5, "o", "bad\u{FFFD}\r\n"], [2.0, "i", "exit\r"]])
        let file = "\(try TemporaryDirectory.make(prefix: "session-cast"))/s.cast"
        try Data(cast.utf8).write(to: URL(fileURLWithPath: file))
        let asciinema = try #require(Self.asciinema, "the asciinema package from PyPI is needed (pip install asciinema)")
        let played = try ChildProcess.run(asciinema, ["cat", file])
        #expect(played.status == 0, "\(played)")
        #expect(played.out == "price: € ok\r\nbad\u{FFFD}\r\n")
        let bad = try bench.host.expectFailure("session.export", ["sessionId": "s", "format": "mp4"])
        #expect(bad["code"] == -32602 && bad["message"].string?.contains("format") == true)
    }

    static var asciinema: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/local/bin", "/root/.pyenv/shims"]
        return paths.map { "\($0)/asciinema" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
