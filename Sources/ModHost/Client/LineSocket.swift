import Foundation

/// The client end of a control-channel socket, one JSON line at a time (`modhost call`).
final class LineSocket {
    let fd: Int32
    private var pending: [UInt8] = []
    /// Bytes at the start of `pending` already searched for a newline.
    private var scanned = 0

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Writes `line` and a newline; false when the host has gone.
    func send(_ line: [UInt8]) -> Bool {
        let bytes = line + [UInt8(ascii: "\n")]
        return bytes.withUnsafeBytes { raw in
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

    /// The next line (without its newline), or nil at the end of the connection.
    func readLine() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let newline = pending[scanned...].firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = pending.count
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            pending += chunk[..<n]
        }
    }
}
