import Foundation

/// Where a host listens by default (`--listen unix` without a path) and `modhost call` connects
/// by default (DESIGN.md, "Several clients").
public enum SocketPath {
    /// `$XDG_RUNTIME_DIR/modhost/<server-id>.sock`; without `XDG_RUNTIME_DIR` (a cron job, a
    /// service without a login session), `/tmp/modhost-<uid>/<server-id>.sock`. Either directory
    /// is created 0700 by the host and must be owned by its user (`SocketListener` checks).
    public static func defaultPath(serverID: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        "\(defaultDirectory(environment: environment))/\(serverID).sock"
    }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return "\(runtime)/modhost"
        }
        return "/tmp/modhost-\(geteuid())"
    }

    /// The longest path a Unix socket address holds (`sun_path` less its NUL).
    public static let maximumLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// A `sockaddr_un` for `path` (which must fit: `maximumLength`).
    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(maximumLength))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Connects a stream socket to `path`; the descriptor (close-on-exec), or the `errno`.
    public static func connect(_ path: String) -> Result<Int32, SystemError> {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(SystemError(errno)) }
        var address = address(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            return .failure(SystemError(error))
        }
        return .success(fd)
    }
}

/// An `errno` value, with its text.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { String(cString: strerror(code)) }
}
