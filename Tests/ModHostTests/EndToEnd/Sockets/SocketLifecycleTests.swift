import Foundation
import ModHostTestKit
import Synchronization
import Testing

/// Shutdown, a client leaving with calls pending, hot swap and the drop-in directory, with
/// socket clients connected.
@Suite struct SocketLifecycleTests {
    @Test func shutdownTellsEveryConnectionAndClosesItAfterItsReplies() throws {
        let server = try SocketHost()
        let busy = try server.connect()
        let idle = try server.connect()
        #expect(try busy.call("echo.ping") == "pong")
        #expect(try idle.call("echo.ping") == "pong")
        try busy.send(raw: #"{"jsonrpc":"2.0","id":"in-flight","method":"echo.later","params":[3000]}"#)
        try server.host.waitForStderr(containing: "client 2 connected")
        // In the module before the shutdown starts (a line not read yet would be refused instead).
        #expect(try Poll.until {
            let methods = try server.host.call("modules.metrics", ["id": "echo"])["modules"][0]["generations"][0]["methods"].array ?? []
            return methods.contains { $0["method"] == "later" && $0["inFlight"] == 1 }
        })
        #expect(try server.host.call("host.shutdown") == true)
        let notice: JSON = ["jsonrpc": "2.0", "method": "host.shutting_down", "params": ["reason": "host.shutdown"]]
        #expect(try JSON(parsing: idle.nextLine()) == notice)
        #expect(try JSON(parsing: server.host.nextLine()) == notice, "stdio too")
        try busy.waitForClose()
        try idle.waitForClose()
        // Both on the busy connection before its close, in either order (the reply is due 3 s
        // after the call: on a very loaded machine the shutdown may start later than that).
        let lines = busy.unreadLines.compactMap { try? JSON(parsing: $0) }
        #expect(lines.contains(notice), "\(lines)")
        #expect(lines.contains { $0["id"] == "in-flight" && $0["result"] == "later" }, "the reply in flight comes before the close: \(lines)")
        #expect(lines.count == 2, "\(lines)")
        #expect(try server.host.waitForExit() == 0)
    }

    @Test func aClosedConnectionsPendingReplyIsDroppedNeverWrittenToAnotherClient() throws {
        let server = try SocketHost { try TestPlugins.services(into: $0) }
        let leaving = try server.connect()
        try leaving.send(raw: #"{"jsonrpc":"2.0","id":"held-by-the-client-that-left","method":"svc.hold"}"#)
        #expect(try Poll.until { try server.host.call("svc.held_client") != .null })
        leaving.close()
        #expect(try Poll.until { try server.clients().count == 1 })
        // The next connection is likely to get the same descriptor number.
        let next = try server.connect()
        #expect(try next.call("svc.release") == 0, "the module answers the call of the client that left")
        #expect(try next.call("echo.ping") == "pong")
        #expect(try server.host.call("echo.ping") == "pong")
        let strays = (next.unreadLines + server.host.stdoutLines).filter { $0.contains("held-by-the-client-that-left") }
        #expect(strays.isEmpty, "\(strays)")
    }

    @Test func aClientThatOnlyStopsSendingStillGetsItsReplies() throws {
        let server = try SocketHost()
        let client = try server.connect()
        try client.send(raw: #"{"jsonrpc":"2.0","id":"late","method":"echo.later","params":[200]}"#)
        client.finishSending()
        #expect(try client.response(id: "late")["result"] == "later")
        try client.waitForClose()
    }

    @Test func hotSwapAndTheDropInDirectoryWorkWithSocketClientsConnected() throws {
        let server = try SocketHost(extraArguments: ["--watch", "--watch-settle-ms", "50"]) { try TestPlugins.counter(into: $0, version: 1) }
        let plugins = try #require(server.host.process.arguments.drop { $0 != "--plugins" }.dropFirst().first)
        let builds = try TestPlugins.directory()
        let v2 = try TestPlugins.counter(into: builds, version: 2)
        let watcher = try server.connect()
        try watcher.call("events.subscribe", ["topics": ["modules.*"]])
        let adder = try server.connect()

        // One client adds steadily while another swaps the module under it.
        let failures = Mutex<[String]>([])
        let done = Atomic<Bool>(false)
        let sent = Atomic<Int>(0)
        let stream = Thread {
            var total: Int64 = 0
            while !done.load(ordering: .relaxed) || sent.load(ordering: .relaxed) < 50 {
                do {
                    total += 1
                    let result = try adder.call("counter.add", [1])
                    if result.int != total { failures.withLock { $0.append("add answered \(result), expected \(total)") } }
                    sent.add(1, ordering: .relaxed)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        stream.start()
        #expect(Poll.until { sent.load(ordering: .relaxed) >= 10 })
        let swapper = try server.connect()
        #expect(try swapper.call("modules.swap", ["id": "counter", "path": .string(v2)])["to"] == "2.0.0")
        #expect(try watcher.nextEvent(topic: "modules.swapped")["data"]["to"] == "2.0.0")
        done.store(true, ordering: .relaxed)
        #expect(Poll.until { failures.withLock { !$0.isEmpty } || sent.load(ordering: .relaxed) >= 50 })
        #expect(failures.withLock { $0 } == [])

        // A file dropped into the watched directory is loaded, and the socket client hears of it.
        try TestPlugins.probe(into: builds, id: "dropped")
        #expect(rename("\(builds)/libdropped.so", "\(plugins)/libdropped.so") == 0)
        #expect(try watcher.nextEvent(topic: "modules.loaded")["data"]["id"] == "dropped")
        #expect(try adder.call("dropped.ping") == "pong")
        #expect(try server.host.shutdown() == 0)
    }
}
