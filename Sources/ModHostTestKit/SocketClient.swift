import Foundation

/// A client of a host's Unix socket (`modhost --listen unix:PATH`), for end-to-end tests: the
/// same requests, responses and events as `HostProcess` speaks on stdio, on one connection.
///
///     let host = try HostProcess(plugins: dir, extraArguments: ["--listen", "unix:\(path)"])
///     let client = try SocketClient(path: path)
///     #expect(try client.call("host.status")["clients"].array?.count == 2)
///     client.close()
///
/// A thread reads the connection into a queue of lines; every wait has a timeout and throws a
/// `HostProcessError` naming what it waited for.
public final class SocketClient: RPCConnection, @unchecked Sendable {
    public let fd: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var lines: [String] = []
    private var closedByHost = false
    private var nextID = 0
    private var closed = false
    private let readerDone = DispatchSemaphore(value: 0)
    private let reading: Bool

    /// Connects, retrying for up to `timeout` while the socket is not there yet (a host that is
    /// still starting).
    ///
    /// - Parameter read: false for a client that never reads what the host sends.
    public init(path: String, timeout: TimeInterval = 20, read: Bool = true) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw HostProcessError("socket: \(String(cString: strerror(errno)))") }
            if Self.connect(fd, path) == 0 {
                self.fd = fd
                break
            }
            let error = errno
            Glibc.close(fd)
            guard (error == ENOENT || error == ECONNREFUSED), Date() < deadline else {
                throw HostProcessError("cannot connect to \(path): \(String(cString: strerror(error)))")
            }
            usleep(10_000)
        }
        reading = read
        if read {
            let thread = Thread { [self] in
                readLoop()
                readerDone.signal()
            }
            thread.start()
        }
    }

    deinit { close() }

    static func connect(_ fd: Int32, _ path: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    // MARK: Sending

    /// Writes all of `bytes`; false once the host closed the connection.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }

    public func send(raw line: String) throws {
        guard write(Array((line + "\n").utf8)) else { throw HostProcessError("the host closed the connection") }
    }

    public func takeID() -> Int {
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        return nextID
    }

    // MARK: Receiving

    public var unreadLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// Waits until the host closes the connection (every line before it stays readable).
    public func waitForClose(timeout: TimeInterval = 20) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !closedByHost {
            if !condition.wait(until: deadline) { throw HostProcessError("the host did not close the connection within \(timeout) s") }
        }
    }

    /// Closes the connection (both directions) and waits for the reader thread.
    public func close() {
        condition.lock()
        let first = !closed
        closed = true
        condition.unlock()
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        if reading { readerDone.wait() }
        Glibc.close(fd)
    }

    /// Shuts down the sending side only (the host sees end of input; replies still arrive).
    public func finishSending() {
        shutdown(fd, Int32(SHUT_WR))
    }

    private func readLoop() {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            condition.lock()
            guard n > 0 else {
                closedByHost = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let scanFrom = pending.count
            pending += chunk[..<n]
            var start = 0
            var index = scanFrom
            while let newline = pending[index...].firstIndex(of: 0x0A) {
                lines.append(String(decoding: pending[start..<newline], as: UTF8.self))
                start = newline + 1
                index = start
            }
            pending.removeSubrange(..<start)
            condition.broadcast()
            condition.unlock()
        }
    }

    public func waitForLine<T>(timeout: TimeInterval, what: String, match: (String) -> T?) throws -> T {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            for (index, line) in lines.enumerated() {
                if let found = match(line) {
                    lines.remove(at: index)
                    return found
                }
            }
            if closedByHost { throw HostProcessError("the host closed the connection before \(what); unread lines: \(lines.prefix(5))") }
            if !condition.wait(until: deadline) {
                throw HostProcessError("timed out after \(timeout) s waiting for \(what); unread lines: \(lines.prefix(5))")
            }
        }
    }
}
