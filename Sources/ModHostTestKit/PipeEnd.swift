import Foundation

/// The parent's end of a pipe to a `ChildProcess`: a descriptor closed exactly once (by
/// `close()` or when the last reference goes), so a closed number reused by another file in
/// this process is never closed or written by mistake.
///
/// Thread safety: `write` and `close` may be called from any thread (`close` waits for a write
/// under way); `readToEnd` and `startReading` are for a single reader.
public final class PipeEnd: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`; -1 once closed.
    private var fd: Int32

    /// Takes ownership of `fd`.
    public init(adopting fd: Int32) {
        self.fd = fd
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// The descriptor, or -1 once closed. Valid only while this object is alive and not closed.
    public var descriptor: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return fd
    }

    /// Closes the descriptor; closing again does nothing.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Writes all of `bytes`, blocking while the reader does not read; throws when the reader
    /// has gone (EPIPE: SIGPIPE must be ignored, as `HostProcess` does) or this end is closed.
    public func write(_ bytes: Data) throws {
        lock.lock()
        defer { lock.unlock() }
        guard fd >= 0 else { throw HostProcessError("the pipe to the child is closed") }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw HostProcessError("write to the child failed: \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
    }

    /// Reads until end of file, then closes this end.
    public func readToEnd() -> Data {
        var data = Data()
        readChunks { data.append($0) }
        return data
    }

    /// Reads on a thread of its own until end of file: `deliver` gets every chunk as it arrives,
    /// then this end is closed and `deliver` gets one empty chunk (end of file). `deliver` runs
    /// on that thread. The thread keeps this object alive until end of file, and nothing else.
    public func startReading(_ deliver: @escaping @Sendable (Data) -> Void) {
        let thread = Thread { [self] in
            readChunks(deliver)
            deliver(Data())
        }
        thread.stackSize = 256 << 10
        thread.start()
    }

    private func readChunks(_ deliver: (Data) -> Void) {
        let fd = descriptor
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while fd >= 0 {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            deliver(Data(chunk[0..<n]))
        }
        close()
    }
}
