import Foundation
import ModHostTestKit
import Synchronization
import Testing

/// Two processes on one auth directory, restarts, hot swaps and shadows, through the real binary.
@Suite struct TokenLifecycleTests {
    private typealias B = TokenBench
    private let t0 = TokenBench.start

    private func file(_ endpoint: TokenEndpoint, refresh: String = "rt-l-0001", minutes: Int64 = 10) -> JSON {
        snakeToken(access: "at-l-secret-0001", refresh: refresh, expiresAtSeconds: (t0 + minutes * B.minute) / 1000, endpoint: endpoint.url)
    }

    /// Two hosts sharing one auth directory refresh the same token at once: the lock file lets
    /// one send the request; the other, once it holds the lock, reads the refreshed file and
    /// adopts it. Exactly one request reaches the endpoint.
    @Test func twoHostsOnOneDirectorySendOneRequest() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        // Long enough that the second host's refresh surely starts while the first one's request
        // is still at the endpoint, both hosts being started before either is sent.
        try endpoint.control(["delayMs": 3000])
        let first = try B(files: ["qwen-oauth-1-a.json": file(endpoint)])
        let second = try B(authDir: first.authDir)
        for bench in [first, second] { _ = try bench.host.call("host.status") }
        let ids = [first, second].map { bench in
            let id = JSON.int(Int64(bench.host.takeID()))
            try? bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": "token.refresh", "params": ["id": "qwen-oauth-1-a"]]).text)
            return id
        }
        let answers = try [first.host.response(id: ids[0], timeout: 30), second.host.response(id: ids[1], timeout: 30)]
        #expect(answers.allSatisfy { $0["result"]["status"] == "valid" }, "\(answers)")
        #expect(try endpoint.requests().count == 1, "exactly one request for two processes")
        let results = answers.map { $0["result"]["history"]["lastResult"].string ?? "" }.sorted()
        #expect(results == ["adopted", "refreshed"], "\(results)")
        let tokens = try [first, second].map { try $0.host.call("token.access", ["id": "qwen-oauth-1-a"])["accessToken"] }
        #expect(tokens[0] == tokens[1])
    }

    /// History, suspension and backoff are in the store: a kill -9 and restart keeps them.
    @Test func historyAndSuspensionSurviveAKill() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        try endpoint.accept("rt-l-0002")
        let bench = try B(files: ["qwen-oauth-1-a.json": file(endpoint), "qwen-oauth-2-b.json": file(endpoint, refresh: "rt-dead")])
        try bench.refresh("qwen-oauth-1-a")
        _ = try bench.host.expectFailure("token.refresh", ["id": "qwen-oauth-2-b"])
        let restarted = try bench.killAndRestart(clockStart: t0 + B.minute)
        let a = try restarted.status("qwen-oauth-1-a")
        #expect(a["history"]["successes"] == 1 && a["history"]["attempts"] == 1 && a["status"] == "valid", "\(a)")
        let b = try restarted.status("qwen-oauth-2-b")
        #expect(b["status"] == "suspended" && b["history"]["lastError"] == "invalid_grant", "\(b)")
    }

    /// A hot swap while a refresh is in flight: the swap waits for the held call, the refresh
    /// completes, and the new instance holds the refreshed token and its history.
    @Test func aSwapDuringARefreshLosesNothing() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        try endpoint.control(["delayMs": 800])
        let bench = try B(files: ["qwen-oauth-1-a.json": file(endpoint)])
        let copy = "\(try TemporaryDirectory.make(prefix: "token-swap"))/libToken.so"
        try FileManager.default.copyItem(atPath: "\(bench.harness.plugins)/libToken.so", toPath: copy)
        let refreshID = JSON.int(Int64(bench.host.takeID()))
        try bench.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": refreshID, "method": "token.refresh", "params": ["id": "qwen-oauth-1-a"]]).text)
        try bench.host.waitUntilRunning("token")
        let swapped = try bench.host.call("modules.swap", ["id": "token", "path": .string(copy)], timeout: 60)
        #expect(swapped["generation"] == 2, "\(swapped)")
        let refreshed = try bench.host.response(id: refreshID, timeout: 30)
        #expect(refreshed["result"]["status"] == "valid", "\(refreshed)")
        let status = try bench.status("qwen-oauth-1-a")
        #expect(status["status"] == "valid" && status["history"]["successes"] == 1, "\(status)")
        #expect(try endpoint.requests().count == 1)
    }

    /// A background refresh cut short by a swap is finished before the state goes over (the
    /// stop waits for it) or done again by the new instance: the token ends refreshed.
    @Test func aSwapDuringABackgroundRefreshFinishesIt() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        try endpoint.control(["delayMs": 800])
        let bench = try B(files: ["qwen-oauth-1-a.json": file(endpoint)])
        let copy = "\(try TemporaryDirectory.make(prefix: "token-swap"))/libToken.so"
        try FileManager.default.copyItem(atPath: "\(bench.harness.plugins)/libToken.so", toPath: copy)
        try bench.harness.advance(by: 1)  // inside the window: the background refresh starts
        try bench.waitForStatus("qwen-oauth-1-a") { $0["status"] == "refreshing" }
        try bench.host.call("modules.swap", ["id": "token", "path": .string(copy)], timeout: 60)
        let status = try bench.waitForStatus("qwen-oauth-1-a") { $0["history"]["successes"] == 1 }
        #expect(status["status"] == "valid", "\(status)")
        #expect(try endpoint.requests().count == 1)
    }

    /// Hot swaps while the auth directory keeps changing: each old instance's watch goes at its
    /// stop, maybe while it handles a change, and the host serves on. (The watch's handler held
    /// its watch unowned: freed under a running handler, it crashed the host.)
    @Test func swapsWhileTheAuthDirectoryKeepsChangingKeepTheHostServing() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        let bench = try B(files: ["qwen-oauth-1-a.json": file(endpoint)])
        let copies = try (0..<2).map { index in
            let copy = "\(try TemporaryDirectory.make(prefix: "token-swap-\(index)"))/libToken.so"
            try FileManager.default.copyItem(atPath: "\(bench.harness.plugins)/libToken.so", toPath: copy)
            return copy
        }
        // A file that is not a token, written as fast as it can be: the watch fires all along.
        let writing = Atomic<Bool>(true)
        let written = Atomic<Int>(0)
        let notes = "\(bench.authDir)/notes.txt"
        let writer = Thread {
            while writing.load(ordering: .relaxed) {
                _ = FileManager.default.createFile(atPath: notes, contents: Data("\(written.load(ordering: .relaxed))".utf8))
                written.wrappingAdd(1, ordering: .relaxed)
            }
        }
        writer.start()
        defer { writing.store(false, ordering: .relaxed) }
        for swap in 0..<200 {
            let swapped = try bench.host.call("modules.swap", ["id": "token", "path": .string(copies[swap % 2])], timeout: 60)
            #expect(swapped["generation"] == .int(Int64(swap + 2)), "\(swapped)")
            #expect(try bench.status("qwen-oauth-1-a")["status"] == "expiring")
        }
        writing.store(false, ordering: .relaxed)
        #expect(written.load(ordering: .relaxed) > 100, "the directory changed \(written.load(ordering: .relaxed)) times")
        #expect(try bench.host.call("token.list")["tokens"].array?.count == 1)
    }

    /// A shadow instance sees every call mirrored but sends no request and writes no file.
    @Test func aShadowNeverSendsARequest() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        let bench = try B(files: ["qwen-oauth-1-a.json": file(endpoint)])
        let copy = "\(try TemporaryDirectory.make(prefix: "token-shadow"))/libToken.so"
        try FileManager.default.copyItem(atPath: "\(bench.harness.plugins)/libToken.so", toPath: copy)
        try bench.host.call("modules.swap", ["id": "token", "path": .string(copy), "mode": "shadow"], timeout: 60)
        try bench.refresh("qwen-oauth-1-a")
        try bench.harness.advance(by: 20 * B.minute)
        #expect(try endpoint.requests().count == 1, "the serving instance's one request, none from the shadow")
        #expect(try bench.status("qwen-oauth-1-a")["history"]["successes"] == 1)
    }

    /// An environment proxy is not used for a loopback endpoint (`http_proxy` points at a port
    /// nobody listens on).
    @Test func anEnvironmentProxyIsBypassed() throws {
        let endpoint = try TokenEndpoint()
        try endpoint.accept("rt-l-0001")
        let auth = try TemporaryDirectory.make(prefix: "token-auth")
        try B.write(file(endpoint), to: "\(auth)/qwen-oauth-1-a.json")
        let plugins = try TemporaryDirectory.make(prefix: "token-plugins")
        try PluginBuilder.copyBuilt("libToken.so", into: plugins)
        let config = "\(try TemporaryDirectory.make(prefix: "token-config"))/modhost.json"
        try Data(JSON.object(["token": ["authDir": .string(auth)]]).text.utf8).write(to: URL(fileURLWithPath: config))
        let host = try HostProcess(plugins: plugins, extraArguments: ["--manual-clock", "--clock-start", String(t0), "--config", config],
                                   environment: ["http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
                                                 "all_proxy": "http://127.0.0.1:9", "no_proxy": ""])
        #expect(try host.call("token.refresh", ["id": "qwen-oauth-1-a"], timeout: 60)["status"] == "valid")
        #expect(try endpoint.requests().count == 1)
        #expect(try host.shutdown() == 0)
    }
}
