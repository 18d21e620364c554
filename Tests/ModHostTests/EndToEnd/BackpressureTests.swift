import Foundation
import ModHostTestKit
import Synchronization
import Testing

/// A client that sends without reading: its input stops being read, events for it are dropped
/// and counted, the host's memory stays bounded, and nothing it asked for is lost.
@Suite struct BackpressureTests {
    static let mib = 1 << 20

    private func start(_ plugins: String, stderr: String? = nil) throws -> PipedProcess {
        try PipedProcess(
            HostProcess.locateExecutable(), ["--plugins", plugins, "--state-dir", TemporaryDirectory.make(prefix: "modhost-state")],
            stderrPath: stderr)
    }


    @Test func aMillionCallsSentWithoutReadingKeepTheHostSmallAndAreAllAnswered() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let host = try start(plugins)
        let total = 1_000_000
        let written = Atomic<Int>(0)
        let writer = Thread {
            var chunk: [UInt8] = []
            for id in 0..<total {
                chunk.append(contentsOf: #"{"jsonrpc":"2.0","id":\#(id),"method":"echo.ping"}"#.utf8)
                chunk.append(0x0A)
                if chunk.count > 60_000 || id == total - 1 {
                    guard host.write(chunk) else { return }
                    written.add(chunk.count, ordering: .relaxed)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
        }
        writer.start()

        // Nothing is read: the host must stop reading its input, which blocks our writer.
        var last = -1
        var stillSince = Date()
        let stalled = Poll.until(timeout: 120, every: .milliseconds(20)) {
            let now = written.load(ordering: .relaxed)
            if now != last {
                last = now
                stillSince = Date()
            }
            return Date().timeIntervalSince(stillSince) > 1
        }
        #expect(stalled)
        let idle = try #require(host.memory())
        #expect(idle.resident < 150 * Self.mib, "RSS \(idle.resident / Self.mib) MiB with \(last) bytes of calls sent and none read")

        // Reading resumes: every call is answered exactly once.
        var seen = [Bool](repeating: false, count: total)
        var answered = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
        defer { buffer.deallocate() }
        var id = 0
        var inID = false
        var field = 0  // bytes of `"id":` matched so far
        let marker = Array(#""id":"#.utf8)
        var duplicates = 0
        while answered < total {
            let n = read(host.readFD, buffer.baseAddress!, buffer.count)
            guard n > 0 else { break }
            for byte in UnsafeRawBufferPointer(rebasing: buffer[0..<n]) {
                if inID {
                    if byte >= 0x30 && byte <= 0x39 {
                        id = id * 10 + Int(byte - 0x30)
                        continue
                    }
                    inID = false
                    if id < total, !seen[id] { seen[id] = true } else { duplicates += 1 }
                    answered += 1
                } else if byte == marker[field] {
                    field += 1
                    if field == marker.count {
                        field = 0
                        inID = true
                        id = 0
                    }
                } else {
                    field = byte == marker[0] ? 1 : 0
                }
            }
        }
        #expect(answered == total)
        #expect(duplicates == 0)
        #expect(seen.allSatisfy { $0 })
        let peak = try #require(host.memory()).peak
        #expect(peak < 150 * Self.mib, "peak RSS \(peak / Self.mib) MiB")
        host.stop()
        #expect(host.process.terminationStatus == 0)
    }

    @Test func eventsForAClientThatDoesNotReadAreDroppedAndCountedWithoutBlockingThePublisher() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let log = try TemporaryDirectory.make(prefix: "modhost-log") + "/stderr"
        let host = try start(plugins, stderr: log)
        func stderr() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        host.send(#"{"jsonrpc":"2.0","id":"sub","method":"events.subscribe","params":{"topics":["probe.burst"]}}"#)
        // 20,000 events of 2 KB: 40 MB, more than twice the 16 MiB an unread client may hold.
        host.send(#"{"jsonrpc":"2.0","id":"burst","method":"p1.burst","params":[20000,2000]}"#)

        // Not reading: the publisher must finish anyway, the host telling why events are dropped.
        #expect(Poll.until(every: .milliseconds(20)) { stderr().contains("burst done") }, "the publishing module was blocked by the unread client:\n\(stderr())")
        #expect(stderr().contains("dropping events for client 1"))
        let memory = try #require(host.memory())
        #expect(memory.resident < 150 * Self.mib, "RSS \(memory.resident / Self.mib) MiB")

        // Read everything: the events that were kept, the burst's answer, and the count. The
        // events were all queued before "burst done"; the burst's answer may come after the
        // status's (the module logs before it returns).
        host.send(#"{"jsonrpc":"2.0","id":"status","method":"host.status"}"#)
        var delivered = 0
        var burst: JSON = .null
        var status: JSON = .null
        while status == .null || burst == .null {
            let line = host.readLine()
            if line.hasPrefix(#"{"jsonrpc":"2.0","method":"event""#) {
                delivered += 1
                continue
            }
            let message = try JSON(parsing: line)
            if message["id"] == "burst" { burst = message["result"] }
            if message["id"] == "status" { status = message["result"] }
        }
        #expect(burst == 20000)
        let dropped = try #require(status["droppedEvents"].int)
        #expect(dropped > 0)
        #expect(delivered + Int(dropped) == 20000, "\(delivered) delivered, \(dropped) dropped")
        host.stop()
    }

    @Test func buffersShrinkBackAfterAHugeResultAndAHugeRequest() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins, id: "p1")
        let host = try start(plugins)
        host.send(#"{"jsonrpc":"2.0","id":0,"method":"p1.ping"}"#)
        _ = host.readLine()
        let before = try #require(host.memory()).resident

        // A 40 MB result, then a 12 MB request: each passes through a buffer of the host's.
        host.send(#"{"jsonrpc":"2.0","id":1,"method":"p1.blob","params":[40000000]}"#)
        #expect(host.readLine().count > 40_000_000)
        host.send(#"{"jsonrpc":"2.0","id":2,"method":"p1.seq","params":[7],"pad":""# + String(repeating: "z", count: 12_000_000) + #""}"#)
        #expect(host.readLine() == #"{"jsonrpc":"2.0","id":2,"result":7}"#)
        var after = 0
        let shrank = Poll.until(timeout: 10, every: .milliseconds(20)) {
            after = host.memory()?.resident ?? .max
            return after < before + 20 * Self.mib
        }
        #expect(shrank, "RSS \(before / Self.mib) MiB before, \(after / Self.mib) MiB after the burst")
        host.stop()
    }
}
