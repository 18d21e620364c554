import Foundation
import ModHostTestKit

/// The token module through the real binary: `token.access` calls/s for a valid token
/// (pipelined), then 1,000 tokens expiring in the same minute refreshed in the background
/// against a loopback endpoint (a plain Python http.server answering every refresh): requests
/// sent, their spread in host time (the jitter's work), and the host's memory.
struct TokenModuleBench {
    static let tokens = 1_000
    static let clockStart: Int64 = 1_767_225_600_000
    let modhost: URL
    let tokenLibrary: String

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-token")
        try FileManager.default.copyItem(atPath: tokenLibrary, toPath: "\(plugins)/libToken.so")
        let endpoint = try Endpoint()
        defer { endpoint.stop() }
        let auth = try TemporaryDirectory.make(prefix: "modhost-bench-token-auth")
        let expiry = Self.clockStart + 3_600_000  // all in one minute: 1 h + i * 60 ms
        for i in 0..<Self.tokens {
            let text = #"{"access_token":"at-\#(i)-0123456789abcdef","refresh_token":"rt-\#(i)","expiry_date":\#(expiry + Int64(i) * 60),"token_endpoint":"http://127.0.0.1:\#(endpoint.port)/token","client_id":"bench"}"#
            let path = "\(auth)/bench-oauth-\(i)-a.json"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o600)
        }
        let config = "\(try TemporaryDirectory.make(prefix: "modhost-bench-token-config"))/modhost.json"
        try Data(#"{"token":{"authDir":"\#(auth)"}}"#.utf8).write(to: URL(fileURLWithPath: config))
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-token-state")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error", "--config", config,
                                       "--manual-clock", "--clock-start", String(Self.clockStart)])
        defer { host.stop() }
        _ = host.call("host.status", "{}")
        let rssLoaded = HealthModuleBench.residentKiB(host.process.processIdentifier)

        let accessRate = pipelined(host, count: 100_000)

        // Host time passes second by second from 31 min before the expiry minute to its end.
        let windowStart = expiry - 1_800_000
        _ = host.call("clock.set", #"{"ms":\#(windowStart - 60_000)}"#)
        let started = DispatchTime.now().uptimeNanoseconds
        var perSecond: [Int] = []
        var sent = 0
        for _ in 0..<(5 * 60) {
            _ = host.call("clock.advance", #"{"ms":1000}"#)
            var now = endpoint.count()
            let settle = DispatchTime.now().uptimeNanoseconds
            while true {  // let the second's refreshes reach the endpoint before time moves on
                usleep(2_000)
                let next = endpoint.count()
                if next == now && DispatchTime.now().uptimeNanoseconds - settle > 20_000_000 { break }
                now = next
            }
            perSecond.append(now - sent)
            sent = now
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        var list = host.call("token.list", "{}")
        while list.contains(#""status":"refreshing""#), DispatchTime.now().uptimeNanoseconds - started < 120_000_000_000 {
            usleep(20_000)  // the last refreshes still under way
            list = host.call("token.list", "{}")
        }
        let drained = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        sent = endpoint.count()
        let attempts = list.components(separatedBy: #""lastAttemptAt":"#).dropFirst().compactMap { Int64($0.prefix(while: \.isNumber)) }
        let rssAfter = HealthModuleBench.residentKiB(host.process.processIdentifier)
        let refreshed = list.components(separatedBy: #""lastResult":"refreshed""#).count - 1
        let spread = (attempts.max() ?? 0) - (attempts.min() ?? 0)
        var statuses: [String: Int] = [:]
        for part in list.components(separatedBy: #""status":""#).dropFirst() { statuses[String(part.prefix(while: { $0 != "\"" })), default: 0] += 1 }
        var errors: [String: Int] = [:]
        for part in list.components(separatedBy: #""lastError":""#).dropFirst() { errors[String(part.prefix(while: { $0 != "\"" })), default: 0] += 1 }
        let busiest = perSecond.max() ?? 0

        print("Token module, through the real binary")
        print(String(format: "  token.access, valid token (pipelined)        %9.0f calls/s", accessRate))
        print("  \(Self.tokens) tokens expiring in the same minute, refreshed in the background:")
        print("    requests sent \(sent), tokens refreshed \(refreshed) (\(Self.tokens) files)"
            + ", statuses: " + statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            + (errors.isEmpty ? "" : ", last errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        print(String(format: "    spread in host time %.1f s (first to last attempt), at most %d requests in one host second", Double(spread) / 1000, busiest))
        print(String(format: "    5 min of host time in %.1f s of real time, every refresh done after %.1f s", seconds, drained))
        print(String(format: "    host memory (RSS) with %d tokens %7.1f MiB, after their refreshes %7.1f MiB", Self.tokens,
                     Double(rssLoaded) / 1024, Double(rssAfter) / 1024))
    }

    private func pipelined(_ host: Child, count: Int) -> Double {
        var payload: [UInt8] = []
        for i in 0..<count {
            payload.append(contentsOf: (#"{"jsonrpc":"2.0","id":\#(i),"method":"token.access","params":{"id":"bench-oauth-7-a"}}"# + "\n").utf8)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let bytes = payload
        let writer = Thread { host.write(bytes) }
        writer.start()
        for _ in 0..<count {
            let line = host.readLine()
            guard line.contains(#""accessToken""#) else { fatalError("access failed: \(line)") }
        }
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }


    /// A loopback token endpoint that answers every refresh and counts them (stdin: any line
    /// asks for the count).
    final class Endpoint {
        let child: Child
        let port: Int

        init() throws {
            let path = "\(try TemporaryDirectory.make(prefix: "modhost-bench-endpoint"))/endpoint.py"
            try Data(Self.script.utf8).write(to: URL(fileURLWithPath: path))
            child = try Child(URL(fileURLWithPath: "/usr/bin/env"), ["python3", path])
            port = Int(child.readLine()) ?? 0
        }

        func count() -> Int {
            child.send("count")
            return Int(child.readLine()) ?? -1
        }

        func stop() { child.stop() }

        static let script = #"""
        import json, sys, threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        count = 0
        lock = threading.Lock()
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def do_POST(self):
                global count
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    count += 1
                    n = count
                body = json.dumps({"access_token": "at-new-%d-0123456789" % n, "token_type": "Bearer", "expires_in": 3600}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], flush=True)
        for line in sys.stdin:
            with lock:
                print(count, flush=True)
        """#
    }
}
