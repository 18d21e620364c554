import Foundation
import ModHostTestKit
import Synchronization
import Testing

/// Terminal clients on their own sockets, as omnish's clients connect to its daemon.
@Suite struct SessionSocketTests {
    @Test func twoClientsOnTheSocketRecordTheirOwnSessionsAtOnce() throws {
        let path = try TemporaryDirectory.make(prefix: "session-sock") + "/host.sock"
        let bench = try SessionBench(extraArguments: ["--listen", "unix:\(path)"])
        try bench.host.waitForStderr(containing: "ready:")
        let clients = try (0..<2).map { _ in try SocketClient(path: path) }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 2) { n in
            do {
                try clients[n].call("session.register", ["sessionId": .string("t\(n)"), "attrs": ["tty": .string("pts/\(n)")]])
                for i in 0..<200 {
                    try clients[n].call("session.writeIo", ["sessionId": .string("t\(n)"), "timestampMs": .int(Int64(i)), "direction": 1,
                                                            "data": .string(Data("\(n):\(i)\n".utf8).base64EncodedString())])
                }
            } catch { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
        let call = try PipedProcess(try HostProcess.locateExecutable(), ["call", "--socket", path, "session.list"])
        let listed = try JSON(parsing: call.readLine())
        call.process.waitUntilExit()
        #expect(listed["sessions"].array?.map { $0["sessionId"] } == ["t0", "t1"], "\(listed)")
        for n in 0..<2 {
            let chunk = try bench.host.call("session.readStream", ["sessionId": .string("t\(n)")])
            let texts = (chunk["records"].array ?? []).map { String(decoding: Data(base64Encoded: $0["data"].string ?? "") ?? Data(), as: UTF8.self) }
            #expect(texts == (0..<200).map { "\(n):\($0)\n" })
        }
    }

    @Test func aSocketClientsSessionsEndWhenItDisconnects() throws {
        let path = try TemporaryDirectory.make(prefix: "session-sock") + "/host.sock"
        let bench = try SessionBench(extraArguments: ["--listen", "unix:\(path)"])
        try bench.host.waitForStderr(containing: "ready:")
        let client = try SocketClient(path: path)
        try client.call("session.register", ["sessionId": "tty", "attrs": [:]])
        try client.call("session.writeIo", ["sessionId": "tty", "timestampMs": 1, "direction": 1, "data": "aGk="])
        try bench.register("stdio")
        client.close()
        let ended = try Poll.until { try bench.host.call("session.get", ["sessionId": "tty"])["endedAt"] != .null }
        #expect(ended, "the socket client's session did not end")
        #expect(try bench.host.call("session.get", ["sessionId": "stdio"])["endedAt"] == .null)
        let entries = try SessionBench.omnishEntries("\(try bench.directory("tty"))/stream.bin")
        #expect(entries.map(\.data) == [Array("hi".utf8)], "flushed at the end")
    }
}
