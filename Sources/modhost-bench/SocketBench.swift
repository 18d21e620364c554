import Foundation
import ModHostTestKit

/// Several clients: pipelined `echo.ping` calls/s over the Unix socket with 1, 8 and 32
/// concurrent connections against the stdio client of the same host, in the same run; and
/// connect-call-disconnect round trips per second, by `modhost call` (a process per call) and
/// by an in-process client (the host's own share of it).
struct SocketBench {
    let calls: Int
    let plugins: String
    let modhost: URL

    /// `calls` pipelined requests on one connection (`fd`): a writer thread feeds, this thread
    /// reads until every answer is in.
    static func pipeline(read readFD: Int32, write writeFD: Int32, calls: Int, firstID: Int) {
        var payload: [UInt8] = []
        payload.reserveCapacity(calls * 50)
        for id in firstID..<(firstID + calls) { payload.append(contentsOf: (ChannelBench.request(id) + "\n").utf8) }
        let bytes = payload
        let writer = Thread {
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(writeFD, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { return }
                    offset += n
                }
            }
        }
        writer.start()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
        defer { buffer.deallocate() }
        var seen = 0
        while seen < calls {
            let n = read(readFD, buffer.baseAddress!, buffer.count)
            guard n > 0 else { fatalError("the host closed the connection after \(seen) of \(calls) answers") }
            for byte in UnsafeRawBufferPointer(rebasing: buffer[0..<n]) where byte == 0x0A { seen += 1 }
        }
    }

    /// Calls per second, all connections together, for `calls` split over `clients` sockets.
    func socketRate(path: String, clients: Int) throws -> Double {
        let connections = try (0..<clients).map { _ in try SocketClient(path: path, read: false) }
        defer { connections.forEach { $0.close() } }
        // Warm up each connection (and let the host register it).
        for (index, connection) in connections.enumerated() { Self.pipeline(read: connection.fd, write: connection.fd, calls: 1, firstID: -1 - index) }
        let share = calls / clients
        let started = DispatchTime.now().uptimeNanoseconds
        let group = DispatchGroup()
        for (index, connection) in connections.enumerated() {
            let thread = Thread { Self.pipeline(read: connection.fd, write: connection.fd, calls: share, firstID: index * share); group.leave() }
            group.enter()
            thread.start()
        }
        group.wait()
        return Double(share * clients) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    func run() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-bench-sock")
        let path = "\(directory)/host.sock"
        let state = try TemporaryDirectory.make(prefix: "modhost-bench")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error", "--listen", "unix:\(path)"])
        defer { host.stop() }
        Self.pipeline(read: host.readFD, write: host.writeFD, calls: 1, firstID: -1)

        print("Several clients: \(calls) pipelined echo.ping calls per run, one host, best of 3")
        func best(_ body: () throws -> Double) rethrows -> Double { try (0..<3).map { _ in try body() }.max()! }
        let stdio = best {
            let started = DispatchTime.now().uptimeNanoseconds
            Self.pipeline(read: host.readFD, write: host.writeFD, calls: calls, firstID: 0)
            return Double(calls) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        print(String(format: "  stdio, 1 client                  %10.0f calls/s", stdio))
        for clients in [1, 8, 32] {
            let rate = try best { try socketRate(path: path, clients: clients) }
            let label = "socket, \(clients) client\(clients == 1 ? "" : "s")".padding(toLength: 32, withPad: " ", startingAt: 0)
            print(String(format: "  %@ %10.0f calls/s   (%.2fx stdio)", label, rate, rate / stdio))
        }
        print("")

        print("Connect, call, disconnect (echo.ping)")
        let cycles = 2000
        let started = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<cycles {
            let client = try SocketClient(path: path, read: false)
            Self.pipeline(read: client.fd, write: client.fd, calls: 1, firstID: 1)
            client.close()
        }
        let inProcess = Double(cycles) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        print(String(format: "  in-process client                %10.0f round trips/s", inProcess))
        let runs = 200
        let callStarted = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<runs {
            let result = try ChildProcess.run(modhost.path, ["call", "--socket", path, "echo.ping"], stdin: .inherit, stdout: .null, stderr: .inherit)
            guard result.status == 0 else { throw HostProcessError("modhost call ended with \(result.termination)") }
        }
        let perProcess = Double(runs) / (Double(DispatchTime.now().uptimeNanoseconds - callStarted) / 1e9)
        print(String(format: "  modhost call (a process each)    %10.0f round trips/s   (%.1f ms each)", perProcess, 1000 / perProcess))
        try? FileManager.default.removeItem(atPath: state)
    }
}
