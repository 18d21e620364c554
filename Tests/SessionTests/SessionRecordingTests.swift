import Foundation
import ModHostTestKit
import Testing

/// Registering, recording, commands, end: omnish's files as its own reader reads them.
@Suite struct SessionRecordingTests {
    @Test func startsEmptyAndAnUnknownSessionIsAnError() throws {
        let bench = try SessionBench()
        #expect(try bench.host.call("session.list") == ["sessions": []])
        for method in ["session.writeIo", "session.get", "session.end", "session.context", "session.export", "session.readStream"] {
            var params: [String: JSON] = ["sessionId": "nope", "timestampMs": 1, "direction": 1, "data": "aGk=", "format": "asciicast-v2"]
            if method == "session.get" { params = ["sessionId": "nope"] }
            let error = try bench.host.expectFailure(method, .object(params))
            #expect(error["code"] == -32000 && error["data"]["reason"] == "session_not_found", "\(method): \(error)")
        }
    }

    @Test func writesOmnishsLayoutByteForByte() throws {
        let bench = try SessionBench()
        let registered = try bench.register("s1", attrs: ["shell": "bash", "cols": 100])
        #expect(registered["startedAt"] == "2026-01-01T00:00:00+00:00")
        #expect(registered["directory"] == "2026-01-01T00-00-00+00-00_s1")
        try bench.write("s1", "ls\r", at: SessionBench.start + 5, direction: 0)
        try bench.write("s1", "a.txt  b.txt\r\n", at: SessionBench.start + 7)
        let command = try bench.complete("s1", "c1", "ls", at: SessionBench.start)
        #expect(command["stream_offset"] == 0 && command["stream_length"] == .int(Int64(13 + 3 + 13 + 14)), "\(command)")
        try bench.write("s1", "x", at: SessionBench.start + 9)
        let second = try bench.complete("s1", "c2", "true")
        #expect(second["stream_offset"] == .int(Int64(13 + 3 + 13 + 14)) && second["stream_length"] == 14, "\(second)")

        let dir = try bench.directory("s1")
        let entries = try SessionBench.omnishEntries("\(dir)/stream.bin")
        #expect(entries.map(\.ts) == [UInt64(SessionBench.start + 5), UInt64(SessionBench.start + 7), UInt64(SessionBench.start + 9)])
        #expect(entries.map(\.dir) == [0, 1, 1])
        #expect(entries.map { String(decoding: $0.data, as: UTF8.self) } == ["ls\r", "a.txt  b.txt\r\n", "x"])
        // The first header, byte for byte: big-endian u64 ms, u8 direction, big-endian u32 length.
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/stream.bin")))
        #expect(Array(raw[0..<13]) == [0x00, 0x00, 0x01, 0x9B, 0x76, 0xDA, 0xA8, 0x05, 0x00, 0x00, 0x00, 0x00, 0x03])

        let meta = try #require(try SessionBench.json("\(dir)/meta.json") as? [String: Any])
        #expect(Set(meta.keys) == ["session_id", "parent_session_id", "started_at", "ended_at", "attrs"])
        #expect(meta["session_id"] as? String == "s1" && meta["started_at"] as? String == "2026-01-01T00:00:00+00:00")
        #expect((meta["attrs"] as? [String: String]) == ["shell": "bash", "cols": "100"])
        let commands = try #require(try SessionBench.json("\(dir)/commands.json") as? [[String: Any]])
        #expect(Set(commands[0].keys) == ["command_id", "session_id", "command_line", "cwd", "started_at", "ended_at", "output_summary",
                                          "stream_offset", "stream_length", "exit_code"])
        #expect(commands.map { $0["command_id"] as? String } == ["c1", "c2"])
        // What was typed and shown may hold secrets: the owner alone reads it.
        func mode(_ path: String) throws -> Int { try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        #expect(try mode(dir) == 0o700)
        for file in ["meta.json", "commands.json", "stream.bin"] { #expect(try mode("\(dir)/\(file)") == 0o600, "\(file)") }

        try bench.harness.advance(by: 2_000)
        let ended = try bench.host.call("session.end", ["sessionId": "s1", "exitCode": 0])
        #expect(ended["endedAt"] == "2026-01-01T00:00:02+00:00")
        #expect((try SessionBench.json("\(dir)/meta.json") as? [String: Any])?["ended_at"] as? String == "2026-01-01T00:00:02+00:00")
        let refused = try bench.host.expectFailure("session.writeIo", ["sessionId": "s1", "timestampMs": 1, "direction": 1, "data": "aGk="])
        #expect(refused["data"]["reason"] == "session_ended", "\(refused)")
    }

    @Test func idsThatCouldEscapeTheDataDirectoryAreRefused() throws {
        let bench = try SessionBench()
        for id in ["..", "../x", "a/b", "a\u{0}b", ".hidden", String(repeating: "a", count: 129), "a\u{FF0F}b", "ｓ1", "a\u{2024}b", ""] {
            let error = try bench.host.expectFailure("session.register", ["sessionId": .string(id), "attrs": [:]])
            #expect(error["code"] == -32602 && error["message"].string?.contains("sessionId") == true, "\(id.debugDescription): \(error)")
        }
        #expect(try bench.register(String(repeating: "a", count: 128))["sessionId"].string?.count == 128)
        let entries = try FileManager.default.contentsOfDirectory(atPath: bench.dataDirectory)
        #expect(entries.count == 1, "\(entries)")
    }

    @Test func limitsOfWritesAndBatchesAreRefusedWithTheField() throws {
        let bench = try SessionBench()
        try bench.register("s")
        let big = Data(count: (1 << 20) + 1).base64EncodedString()
        let tooBig = try bench.host.expectFailure("session.writeIo", ["sessionId": "s", "timestampMs": 1, "direction": 1, "data": .string(big)])
        #expect(tooBig["code"] == -32602 && tooBig["message"].string?.contains("data") == true, "\(tooBig)")
        let records = JSON.array((0..<1001).map { _ in ["timestampMs": 1, "direction": 1, "data": "eA=="] })
        let many = try bench.host.expectFailure("session.writeIoBatch", ["sessionId": "s", "records": records])
        #expect(many["code"] == -32602 && many["message"].string?.contains("1000") == true, "\(many)")
        let badDirection = try bench.host.expectFailure("session.writeIo", ["sessionId": "s", "timestampMs": 1, "direction": 2, "data": "eA=="])
        #expect(badDirection["code"] == -32602 && badDirection["message"].string?.contains("direction") == true, "\(badDirection)")
        let ok = try bench.host.call("session.writeIoBatch", ["sessionId": "s", "records": [
            ["timestampMs": 1, "direction": 1, "data": "YQ=="], ["timestampMs": 2, "direction": 0, "data": "Yg=="]]])
        #expect(ok["recorded"] == 2 && ok["streamBytes"] == 28, "\(ok)")
    }
}
