import Foundation
import ModHostTestKit
import Testing

/// Bad input on sockets: each bad client gets an error or a disconnect, the others are
/// unaffected, and nothing leaks.
@Suite struct SocketLimitsTests {
    @Test func the65thClientIsRefusedWithAnErrorLineAndTheOthersServe() throws {
        let server = try SocketHost()
        var clients: [SocketClient] = []
        for _ in 0..<64 {
            let client = try server.connect()
            #expect(try client.call("echo.ping") == "pong")
            clients.append(client)
        }
        let refused = try server.connect()
        let line = try JSON(parsing: refused.nextLine())
        #expect(line["id"] == .null)
        #expect(line["error"]["code"] == -32006)
        #expect(line["error"]["message"].string?.contains("at most 64 at once (--max-clients)") == true, "\(line)")
        try refused.waitForClose()
        try server.host.waitForStderr(containing: "64 clients are connected (--max-clients)")
        #expect(try clients[17].call("echo.echo", [17]) == [17])
        #expect(try server.clients().count == 65, "64 sockets and stdio")

        clients.removeFirst().close()
        #expect(try Poll.until { try server.clients().count == 64 })
        #expect(try server.connect().call("echo.ping") == "pong", "a place freed is taken")
    }

    @Test func maxClientsIsAnOption() throws {
        let server = try SocketHost(extraArguments: ["--max-clients", "1"])
        let first = try server.connect()
        #expect(try first.call("echo.ping") == "pong")
        #expect(try JSON(parsing: server.connect().nextLine())["error"]["code"] == -32006)
    }

    @Test func garbageAHalfLineAndADisconnectLeaveTheOthersServing() throws {
        let server = try SocketHost()
        let steady = try server.connect()
        let bad = try server.connect()
        try bad.send(raw: "garbage")
        #expect(try JSON(parsing: bad.nextLine())["error"]["code"] == -32700)
        #expect(bad.write(Array(#"{"jsonrpc":"2.0","id":1,"meth"#.utf8)))
        bad.close()
        #expect(try Poll.until { try server.clients().count == 2 })
        #expect(try steady.call("echo.ping") == "pong")
        #expect(try server.host.call("echo.ping") == "pong")
    }

    @Test func anOverlongLineIsAnsweredWithItsIdAndNamesTheLimit() throws {
        let server = try SocketHost(extraArguments: ["--max-line-bytes", "4096"])
        let client = try server.connect()
        let big = String(repeating: "x", count: 100_000)
        try client.send(raw: #"{"jsonrpc":"2.0","id":"big","method":"echo.echo","params":["\#(big)"]}"#)
        let answer = try client.response(id: "big")
        #expect(answer["error"]["code"] == -32600)
        #expect(answer["error"]["message"].string?.contains("limit of 4096 bytes (--max-line-bytes)") == true)
        // An id only after the params is past the part read: null.
        try client.send(raw: #"{"jsonrpc":"2.0","method":"echo.echo","params":["\#(big)"],"id":"late"}"#)
        #expect(try JSON(parsing: client.nextLine())["id"] == .null)
        #expect(try client.call("echo.echo", ["small"]) == ["small"])
    }

    @Test func aGigabyteWithoutNewlinesIsRefusedWithoutHoldingIt() throws {
        let server = try SocketHost()
        let flood = try server.connect()
        let steady = try server.connect()
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        #expect(flood.write(Array(#"{"jsonrpc":"2.0","id":7,"method":"echo.echo","params":[""#.utf8)))
        var peak = 0
        for index in 0..<1024 {
            #expect(flood.write(chunk))
            if index % 128 == 0 {
                #expect(try steady.call("echo.ping") == "pong", "another client is answered meanwhile")
                peak = max(peak, ProcFS.memory(of: server.host.process.processIdentifier)?.resident ?? 0)
            }
        }
        let answer = try flood.response(id: 7)
        #expect(answer["error"]["code"] == -32600)
        #expect(answer["error"]["message"].string?.contains("--max-line-bytes") == true)
        // The end of the line, then the connection is in sync again.
        #expect(flood.write(Array("\"]}\n".utf8)))
        #expect(try flood.call("echo.echo", ["after"]) == ["after"])
        let resident = try #require(ProcFS.memory(of: server.host.process.processIdentifier))
        // The line limit is 16 MiB: the host holds at most about twice that, never the gigabyte.
        #expect(max(peak, resident.peak) < 200 << 20, "peak resident \(max(peak, resident.peak) >> 20) MiB")
    }

    @Test func aThousandConnectsAndDisconnectsLeakNeitherDescriptorsNorMemory() throws {
        let server = try SocketHost()
        let pid = server.host.process.processIdentifier
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
        func cycle(_ count: Int) throws {
            for index in 0..<count {
                let client = try server.connect()
                #expect(try client.call("echo.echo", [.int(Int64(index))]) == [.int(Int64(index))])
                client.close()
            }
            #expect(try Poll.until { try server.clients().count == 1 })
        }
        try cycle(100)  // warm-up: thread stacks, allocator arenas
        // A connection's last descriptors close when its threads let go of it, a moment after it
        // leaves the listing: count once the figure settles.
        var fdsBefore = descriptors()
        _ = Poll.until(timeout: 2) { fdsBefore = min(fdsBefore, descriptors()); return false }
        let rssBefore = try #require(ProcFS.memory(of: pid)).resident
        try cycle(1000)
        var fdsAfter = descriptors()
        _ = Poll.until(timeout: 10) { fdsAfter = descriptors(); return fdsAfter <= fdsBefore }
        let rssAfter = try #require(ProcFS.memory(of: pid)).resident
        #expect(fdsAfter == fdsBefore, "descriptors \(fdsBefore) -> \(fdsAfter)")
        #expect(rssAfter < rssBefore + (12 << 20), "resident \(rssBefore >> 10) KiB -> \(rssAfter >> 10) KiB")
        #expect(try server.host.call("host.status")["clients"].array?.count == 1)
    }

    /// A connection subscribed to `flood` that reads nothing; its client id.
    private func stuckSubscriber(_ server: SocketHost) throws -> (SocketClient, Int64) {
        let stuck = try server.connect(read: false)
        #expect(stuck.write(Array(#"{"jsonrpc":"2.0","id":"sub","method":"events.subscribe","params":{"topics":["flood"]}}"#.utf8) + [0x0A]))
        #expect(try Poll.until { try server.clients().values.contains { $0["subscriptions"] == ["flood"] } })
        return (stuck, try #require(server.clients().values.first { $0["subscriptions"] == ["flood"] }?["clientId"].int))
    }

    @Test func eventsForAClientThatNeverReadsAreDroppedAndCountedForItAlone() throws {
        // A grace no test reaches: this one is about the events.
        let server = try SocketHost(extraArguments: ["--client-grace-ms", "3600000"])
        let (stuck, stuckID) = try stuckSubscriber(server)
        let steady = try server.connect()
        try steady.call("events.subscribe", ["topics": ["flood"]])
        let megabyte = String(repeating: "m", count: 1 << 20)
        for _ in 0..<24 {
            #expect(try steady.call("events.publish", ["topic": "flood", "data": .string(megabyte)]) == ["subscribers": 2])
            _ = try steady.nextEvent(topic: "flood")
        }
        // Over 16 MiB behind: the rest were dropped and counted, for that client alone.
        let clients = try server.clients()
        #expect(clients[UInt64(stuckID)]?["droppedEvents"].int ?? 0 > 0)
        #expect(clients.values.filter { $0["clientId"] != .int(stuckID) }.allSatisfy { $0["droppedEvents"] == 0 })
        #expect(try steady.call("echo.ping") == "pong")
        try server.host.waitForStderr(containing: "dropping events for client \(stuckID)")
        stuck.close()
    }

    @Test func aClientThatNeverReadsIsDisconnectedAfterTheGraceAndNeverStallsTheOthers() throws {
        let server = try SocketHost(extraArguments: ["--client-grace-ms", "500"])
        try server.host.call("events.subscribe", ["topics": ["host.client_disconnected"]])
        let (stuck, stuckID) = try stuckSubscriber(server)
        let steady = try server.connect()
        let megabyte = String(repeating: "m", count: 1 << 20)
        for _ in 0..<8 {  // over the 4 MiB bound
            #expect(try steady.call("events.publish", ["topic": "flood", "data": .string(megabyte)])["subscribers"].int ?? 0 <= 1)
        }
        let disconnected = try server.host.nextEvent(topic: "host.client_disconnected", timeout: 60)
        #expect(disconnected["data"]["clientId"] == .int(stuckID))
        // The event and the log line travel on different pipes: wait for the line.
        try server.host.waitForStderr(containing: "disconnected client \(stuckID): more than 4 MiB of its output stayed unread for over 500 ms (--client-grace-ms)")
        #expect(try steady.call("echo.ping") == "pong")
        #expect(try server.clients().count == 2)
        stuck.close()
    }
}
