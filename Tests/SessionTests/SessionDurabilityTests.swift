import Foundation
import ModHostTestKit
import Testing

/// kill -9, torn tails, corrupt directories, hot swap in the middle of a stream.
@Suite struct SessionDurabilityTests {
    @Test func killNineLosesOnlyTheUnflushedSecondAndATornTailIsCutOnOpen() throws {
        let bench = try SessionBench()
        try bench.register("s")
        try bench.write("s", "flushed", at: 1)
        try bench.harness.advance(by: 1_000)  // a second after its first pending byte: on disk
        try bench.write("s", "unflushed", at: 2)
        let dir = try bench.directory("s")
        #expect(try SessionBench.omnishEntries("\(dir)/stream.bin").map { String(decoding: $0.data, as: UTF8.self) } == ["flushed"])
        // A write torn by the crash: a whole header and half a body.
        let handle = try #require(FileHandle(forWritingAtPath: "\(dir)/stream.bin"))
        handle.seekToEndOfFile()
        handle.write(Data([0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 10, 65, 66]))
        handle.closeFile()

        let restarted = SessionBench(try bench.harness.killAndRestart(clockStart: SessionBench.start + 5_000))
        try restarted.host.waitForStderr(containing: "cut a torn tail of 15 bytes")
        let size = try FileManager.default.attributesOfItem(atPath: "\(dir)/stream.bin")[.size] as? Int
        #expect(size == 13 + 7)
        try restarted.write("s", "after", at: 4)
        #expect(try restarted.host.call("session.get", ["sessionId": "s"])["streamBytes"] == .int(Int64(13 + 7 + 13 + 5)))
        let chunk = try restarted.host.call("session.readStream", ["sessionId": "s"])
        let texts = (chunk["records"].array ?? []).map { String(decoding: Data(base64Encoded: $0["data"].string ?? "") ?? Data(), as: UTF8.self) }
        #expect(texts == ["flushed", "after"])
    }

    /// A real kill -9 while thousands of pipelined writes are being recorded: what is on disk
    /// after the restart is exactly the first records, in order, byte for byte, none torn or
    /// repeated, and every answered write before the last 64 KiB flush is among them.
    @Test func killNineInTheMiddleOfAStreamOfWritesKeepsAnExactPrefix() throws {
        let bench = try SessionBench()
        try bench.register("s")
        let dir = try bench.directory("s")
        let host = bench.host
        let count = 20_000
        @Sendable func body(_ index: Int) -> [UInt8] {
            let label = Array("record \(index);".utf8)
            return label + [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: 1_024 - label.count)
        }
        let ids = (0..<count).map { _ in JSON.int(Int64(host.takeID())) }
        // The writes go out from another thread, so the kill lands while they still stream in.
        let sent = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for index in 0..<count {
                let line = JSON.object(["jsonrpc": "2.0", "id": ids[index], "method": "session.writeIo", "params": [
                    "sessionId": "s", "timestampMs": .int(SessionBench.start + Int64(index)), "direction": 1,
                    "data": .string(Data(body(index)).base64EncodedString()),
                ]]).text
                do { try host.send(raw: line) } catch { break }  // the host is gone
            }
            sent.signal()
        }
        let answered = 2_000
        #expect(try host.response(id: ids[answered - 1], timeout: 60)["result"] != .null)
        let restarted = try bench.harness.killAndRestart(clockStart: SessionBench.start + 60_000)
        sent.wait()
        _ = try restarted.host.call("session.get", ["sessionId": "s"])
        let entries = try SessionBench.omnishEntries("\(dir)/stream.bin")
        // 64 KiB flushes: at most one flush's worth of answered writes (63 records) was pending.
        #expect(entries.count >= answered - 64, "\(entries.count) records on disk, \(answered) writes answered")
        for (index, entry) in entries.enumerated() {
            guard entry.data == body(index), entry.ts == UInt64(SessionBench.start) + UInt64(index) else {
                Issue.record("record \(index) of \(entries.count) is not the \(index)th write")
                break
            }
        }
    }

    @Test func aCorruptDirectoryIsMovedAsideNotDeleted() throws {
        let bench = try SessionBench()
        try bench.register("good")
        try bench.register("bad")
        let bad = try bench.directory("bad")
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: "\(bad)/meta.json"))
        let restarted = SessionBench(try bench.harness.killAndRestart(clockStart: SessionBench.start))
        try restarted.host.waitForStderr(containing: "is unreadable")
        #expect(try restarted.host.call("session.list")["sessions"].array?.map { $0["sessionId"] } == ["good"])
        let moved = "\(restarted.dataDirectory)/corrupt/\((bad as NSString).lastPathComponent)"
        #expect(FileManager.default.fileExists(atPath: "\(moved)/meta.json"))
        #expect(!FileManager.default.fileExists(atPath: bad))
        let unknown = try restarted.host.expectFailure("session.get", ["sessionId": "bad"])
        #expect(unknown["data"]["reason"] == "session_not_found")
    }

    @Test func aHotSwapInTheMiddleOfAStreamLosesAndDuplicatesNothing() throws {
        let bench = try SessionBench()
        try bench.register("s")
        let copy = try TemporaryDirectory.make(prefix: "session-swap")
        try PluginBuilder.copyBuilt("libSession.so", into: copy)
        // Pipelined: 200 writes, the swap, 200 more, all sent before any answer is read; the
        // host holds the writes that arrive during the swap and runs them on the new instance.
        func writeLine(_ i: Int) -> (Int, String) {
            let id = bench.host.takeID()
            let params: JSON = ["sessionId": "s", "timestampMs": .int(Int64(i)), "direction": 1, "data": .string(Data("<\(i)>".utf8).base64EncodedString())]
            return (id, JSON.object(["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "session.writeIo", "params": params]).text)
        }
        var ids: [Int] = []
        for i in 0..<200 { let (id, line) = writeLine(i); ids.append(id); try bench.host.send(raw: line) }
        let swapID = bench.host.takeID()
        try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": .int(Int64(swapID)), "method": "modules.swap",
                                              "params": ["id": "session", "path": .string("\(copy)/libSession.so")]]).text)
        for i in 200..<400 { let (id, line) = writeLine(i); ids.append(id); try bench.host.send(raw: line) }
        for id in ids {
            let response = try bench.host.response(id: .int(Int64(id)))
            #expect(response["result"]["recorded"] == 1, "\(response)")
        }
        let swap = try bench.host.response(id: .int(Int64(swapID)))
        #expect(swap["result"]["to"] == "1.0.0", "\(swap)")
        try bench.harness.advance(by: 1_000)
        let entries = try SessionBench.omnishEntries("\(try bench.directory("s"))/stream.bin")
        #expect(entries.map { String(decoding: $0.data, as: UTF8.self) } == (0..<400).map { "<\($0)>" })
    }
}

/// A shadow instance (modules.swap mode shadow) gets every call mirrored and writes no file.
@Suite struct SessionShadowTests {
    @Test func aShadowWritesNoFiles() throws {
        let bench = try SessionBench()
        try bench.register("s")
        let copy = try TemporaryDirectory.make(prefix: "session-shadow")
        try PluginBuilder.copyBuilt("libSession.so", into: copy)
        let shadow = try bench.host.call("modules.swap", ["id": "session", "path": .string("\(copy)/libSession.so"), "mode": "shadow"])
        #expect(shadow != .null, "\(shadow)")
        for i in 0..<5 { try bench.write("s", "line \(i)\r\n", at: Int64(i)) }
        try bench.complete("s", "c1", "seq 5")
        try bench.register("t")
        try bench.harness.advance(by: 1_000)
        let dir = try bench.directory("s")
        #expect(try SessionBench.omnishEntries("\(dir)/stream.bin").count == 5, "each record once: the shadow appended none")
        let commands = try SessionBench.json("\(dir)/commands.json") as? [[String: Any]]
        #expect(commands?.count == 1)
        let directories = try FileManager.default.contentsOfDirectory(atPath: bench.dataDirectory).filter { $0.hasSuffix("_t") }
        #expect(directories.count == 1, "\(directories)")
    }
}
