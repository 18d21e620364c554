import SessionCore
import Testing

@Suite struct TextTests {
    @Test func escapesAreStrippedAndOverprintsResolved() {
        let raw = Array("\u{1B}[1;32mgreen\u{1B}[0m\r\n\u{1B}]0;title\u{7}progress 10%\rprogress 100%\r\nab\u{8}c\n".utf8)
        #expect(TerminalText.lines(raw) == ["green", "progress 100%", "ac"])
    }

    @Test func linesAreCutOnCharacterBoundaries() {
        let line = String(repeating: "é", count: 600)
        let cut = TerminalText.cut(line, to: 512)
        #expect(cut.count == 512 && cut.hasSuffix("…") && cut.utf8.count == 511 * 2 + 3)
    }

    @Test func aCharacterSplitAcrossPiecesComesOutWholeAndBadBytesAreReplaced() {
        var stream = UTF8Stream()
        let euro = Array("€".utf8)
        #expect(stream.decode([UInt8(ascii: "a")] + euro.prefix(2)) == "a")
        #expect(stream.decode(Array(euro.suffix(1)) + [0xFF]) == "€\u{FFFD}")
        #expect(stream.decode([0xE2]) == "" && stream.finish() == "\u{FFFD}")
    }

    @Test func patternsMatchAcrossWritesCaseInsensitively() {
        let detector = TriggerDetector(TriggerConfig(outputPatterns: ["Segmentation fault"]))
        var tail: [UInt8] = []
        #expect(detector.match(Array("boom: segmenta".utf8), tail: &tail) == nil)
        #expect(detector.match(Array("TION FAULT (core dumped)".utf8), tail: &tail) == "Segmentation fault")
        #expect(detector.match(Array("nothing".utf8), tail: &tail) == nil)
    }

    @Test func contextShrinksByAQuarterUntilItFits() {
        let commands = (0..<40).map { i in
            ContextCommand(sessionId: "s", record: CommandRecord(command_id: "c\(i)", session_id: "s", command_line: "echo \(i)", cwd: nil,
                                                                 started_at: UInt64(i), ended_at: nil, output_summary: "", stream_offset: 0,
                                                                 stream_length: 0, exit_code: 0),
                           output: { Array((0..<100).map { "line \($0)\n" }.joined().utf8) })
        }
        let full = ContextBuilder.build(commands, current: "s", maxChars: nil)
        #expect(full.commands == 40 && full.text.contains("Earlier commands:\n$ echo 0\n") && full.text.contains("… 60 lines left out …"))
        let small = ContextBuilder.build(commands, current: "s", maxChars: 2_000)
        #expect(small.chars <= 2_000 && small.text.contains("$ echo 39"))
    }
}
