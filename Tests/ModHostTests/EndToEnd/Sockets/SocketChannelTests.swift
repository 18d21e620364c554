import Foundation
import ModHostTestKit
import Testing

/// `--listen unix:PATH`: the stdio protocol on a private socket, per connection.
@Suite struct SocketChannelTests {
    @Test func theSocketIsPrivateAndServesTheProtocolPerConnection() throws {
        let server = try SocketHost()
        var info = stat()
        #expect(lstat(server.path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(stat((server.path as NSString).deletingLastPathComponent, &info) == 0 && info.st_mode & 0o777 == 0o700)

        let a = try server.connect()
        let b = try server.connect()
        // The same id on two connections: each gets its own answer, and only its own.
        try a.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"echo.echo","params":["from a"]}"#)
        try b.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"echo.echo","params":["from b"]}"#)
        #expect(try a.response(id: 1)["result"] == ["from a"])
        #expect(try b.response(id: 1)["result"] == ["from b"])
        // A batch is answered as one array line, on its own connection.
        try a.send(raw: #"[{"jsonrpc":"2.0","id":"x","method":"echo.ping"},{"jsonrpc":"2.0","id":"y","method":"echo.echo","params":[2]}]"#)
        let batch = try JSON(parsing: a.nextLine())
        #expect(batch.array?.count == 2)
        #expect(try b.call("echo.ping") == "pong")
        #expect(a.unreadLines.isEmpty && b.unreadLines.isEmpty)

        let clients = try server.clients()
        #expect(clients.count == 3)
        #expect(clients[1]?["transport"] == "stdio")
        let sockets = clients.values.filter { $0["transport"] == "unix" }
        #expect(sockets.count == 2)
        #expect(sockets.allSatisfy { $0["socket"].string == server.path && $0["connectedAtMs"].int ?? 0 > 0 })
        a.close()
        b.close()
        #expect(try Poll.until { try server.clients().count == 1 })
        #expect(try server.host.shutdown() == 0)
        #expect(lstat(server.path, &info) != 0, "the socket file is removed at shutdown")
    }

    @Test func eventsGoOnlyToTheConnectionsThatSubscribed() throws {
        let server = try SocketHost()
        let subscriber = try server.connect()
        let other = try server.connect()
        #expect(try subscriber.call("events.subscribe", ["topics": ["news.*"]]) == ["subscribed": ["news.*"]])
        #expect(try other.call("events.subscribe", ["topics": ["other.*"]]) == ["subscribed": ["other.*"]])
        #expect(try server.host.call("events.publish", ["topic": "news.one", "data": 1]) == ["subscribers": 1])
        #expect(try subscriber.nextEvent(topic: "news.one")["data"] == 1)
        #expect(try other.call("echo.ping") == "pong")
        #expect(other.unreadLines.isEmpty, "an event reached a connection that did not subscribe")
        let listed = try server.clients().values.map { $0["subscriptions"] }
        #expect(listed.contains(["news.*"]) && listed.contains(["other.*"]) && listed.contains([]))
    }

    @Test func connectionsAreAnnouncedAndModulesSeeWhichClientCalled() throws {
        let server = try SocketHost { try TestPlugins.services(into: $0) }
        try server.host.call("events.subscribe", ["topics": ["host.client_*"]])
        let client = try server.connect()
        let connected = try server.host.nextEvent(topic: "host.client_connected")
        let id = try #require(connected["data"]["clientId"].int)
        #expect(id > 1)
        #expect(connected["data"]["transport"] == "unix")
        #expect(try client.call("svc.client") == .int(id), "call_client reports the connection's id")
        #expect(try server.host.call("svc.client") == 1)
        #expect(try client.call("svc.notify", ["client": .int(id), "topic": "only.you", "data": 5]) == 0)
        #expect(try client.nextEvent(topic: "only.you")["data"] == 5)
        client.close()
        #expect(try server.host.nextEvent(topic: "host.client_disconnected")["data"] == ["clientId": .int(id)])
        #expect(try server.host.call("svc.notify", ["client": .int(id), "topic": "t"]) == -3, "MH_NO_CLIENT once it left")
    }

    @Test func aStaleSocketIsReplacedAndALiveOneRefused() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-sock")
        let path = "\(directory)/host.sock"
        // A socket file nothing listens on, as a host killed with SIGKILL leaves.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(stale)
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix:\(path)"])
        try host.waitForStderr(containing: "replaced a stale socket \(path)")
        #expect(try SocketClient(path: path).call("echo.ping") == "pong")

        let second = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix:\(path)"])
        #expect(try second.waitForExit() == 1)
        #expect(second.stderrText.contains("cannot listen on unix:\(path): another process is listening there"))
        #expect(try SocketClient(path: path).call("echo.ping") == "pong", "the first host still serves")
    }

    @Test func aSocketDirectoryOthersCanOpenOrAFileInTheWayIsRefused() throws {
        let open = try TemporaryDirectory.make(prefix: "modhost-sock")
        chmod(open, 0o755)
        let host = try HostProcess(plugins: nil, extraArguments: ["--no-watch", "--listen", "unix:\(open)/h.sock"])
        #expect(try host.waitForExit() == 1)
        #expect(host.stderrText.contains("cannot listen on unix:\(open)/h.sock: its directory \(open) has mode 0755"))
        #expect(host.stderrText.contains("mkdir -m 700"))

        let directory = try TemporaryDirectory.make(prefix: "modhost-sock")
        _ = FileManager.default.createFile(atPath: "\(directory)/h.sock", contents: Data("keep".utf8))
        let blocked = try HostProcess(plugins: nil, extraArguments: ["--no-watch", "--listen", "unix:\(directory)/h.sock"])
        #expect(try blocked.waitForExit() == 1)
        #expect(blocked.stderrText.contains("\(directory)/h.sock exists and is not a socket"))
        #expect(FileManager.default.contents(atPath: "\(directory)/h.sock") == Data("keep".utf8))

        let bad = try HostProcess(plugins: nil, extraArguments: ["--listen", "tcp:80"])
        #expect(try bad.waitForExit() == 64)
        #expect(bad.stderrText.contains("--listen must be unix or unix:PATH"))
    }

    @Test func listenUnixAloneUsesTheDefaultPath() throws {
        let runtime = try TemporaryDirectory.make(prefix: "modhost-xdg")
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix", "--server-id", "alpha"],
                                   environment: ["XDG_RUNTIME_DIR": runtime])
        try host.waitForStderr(containing: "ready:")
        var info = stat()
        #expect(stat("\(runtime)/modhost", &info) == 0 && info.st_mode & 0o777 == 0o700, "the directory is made 0700")
        #expect(try SocketClient(path: "\(runtime)/modhost/alpha.sock").call("echo.ping") == "pong")

        // Without XDG_RUNTIME_DIR: /tmp/modhost-<uid>/<server-id>.sock.
        let serverID = "t\(getpid())x\(UInt32.random(in: 0...UInt32.max))"
        let fallback = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix", "--server-id", serverID],
                                       environment: ["XDG_RUNTIME_DIR": ""])
        try fallback.waitForStderr(containing: "ready:")
        #expect(try SocketClient(path: "/tmp/modhost-\(geteuid())/\(serverID).sock").call("echo.ping") == "pong")
        #expect(try fallback.shutdown() == 0)
    }

    @Test func noStdioServesUntilSIGTERM() throws {
        let server = try SocketHost(extraArguments: ["--no-stdio"])
        let client = try server.connect()
        server.host.closeInput()  // end of stdin: not read without stdio
        #expect(try client.call("echo.ping") == "pong")
        let clients = try client.call("host.status")["clients"].array ?? []
        #expect(clients.map { $0["transport"] } == ["unix"], "no stdio client")
        server.host.signal(SIGTERM)
        #expect(try JSON(parsing: client.nextLine()) == ["jsonrpc": "2.0", "method": "host.shutting_down", "params": ["reason": "SIGTERM"]])
        try client.waitForClose()
        #expect(try server.host.waitForExit() == 0)
    }

    @Test func noStdioWithoutListenIsAUsageError() throws {
        let host = try HostProcess(plugins: nil, extraArguments: ["--no-stdio"])
        #expect(try host.waitForExit() == 64)
        #expect(host.stderrText.contains("--no-stdio needs --listen"))
    }
}
