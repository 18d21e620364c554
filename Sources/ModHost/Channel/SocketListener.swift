import CModHostShims
import Foundation
import ModHostSupport

/// One listening Unix socket (`--listen unix:PATH`): made safely, accepted on its own thread.
///
/// The socket is bound inside a directory only the host's user can open (mode 0700, owned by
/// that user, the way to it passing `PathTrust`), so the moment between `bind` (which gives the
/// socket the umask's mode) and the `chmod` to 0600 is invisible to others: no umask race, and
/// nobody else can replace the socket. A socket file left by a host that is gone (nothing
/// answers a connect) is replaced; one a live host listens on is refused. At `close` the file
/// is removed, unless something else has been put in its place meanwhile.
final class SocketListener: @unchecked Sendable {
    let path: String
    private let fd: Int32
    /// The bound file's identity, so `close` removes only our own socket.
    private let device: dev_t
    private let inode: ino_t
    /// Written to wake the accept loop at `close`.
    private let wake: (read: Int32, write: Int32)
    private let finished = DispatchSemaphore(value: 0)

    /// Creates the directory if needed, checks it, replaces a stale socket, binds and listens.
    ///
    /// - Parameters:
    ///   - createDirectory: make the directory (0700) when it is missing (the default one).
    ///   - notice: told about a stale socket that was replaced.
    /// - Throws: `ConfigurationError` naming `unix:PATH` and what to do.
    init(path: String, trust: PathTrust = PathTrust(), notice: (String) -> Void) throws {
        let name = "unix:\(path)"
        guard path.hasPrefix("/") else {
            throw ConfigurationError("cannot listen on \(name): the path must be absolute")
        }
        guard path.utf8.count <= SocketPath.maximumLength else {
            throw ConfigurationError(
                "cannot listen on \(name): the path is \(path.utf8.count) bytes, over the \(SocketPath.maximumLength) a Unix socket address holds; choose a shorter path")
        }
        let directory = PathTrust.parent(of: path)
        try Self.prepareDirectory(directory, for: name, trust: trust)
        try Self.removeStale(path, name: name, notice: notice)

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigurationError("cannot listen on \(name): socket: \(String(cString: strerror(errno)))") }
        var address = SocketPath.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var info = stat()
        guard bound == 0, chmod(path, 0o600) == 0, lstat(path, &info) == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ConfigurationError("cannot listen on \(name): \(reason)")
        }
        var pipeFDs: [Int32] = [0, 0]
        guard mh_shim_pipe_cloexec(&pipeFDs) == 0 else {
            Glibc.close(fd)
            unlink(path)
            throw ConfigurationError("cannot listen on \(name): pipe: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.fd = fd
        device = info.st_dev
        inode = info.st_ino
        wake = (pipeFDs[0], pipeFDs[1])
    }

    /// Accepts connections on a thread of its own, handing each descriptor (close-on-exec) to
    /// `accept`, until `close`.
    func start(logger: @escaping @Sendable (String) -> Void, accept: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread { [self] in
            CrashReport.prepareThread()
            run(logger: logger, accept: accept)
            finished.signal()
        }
        thread.name = "modhost-accept"
        thread.start()
    }

    private func run(logger: (String) -> Void, accept: (Int32) -> Void) {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 || ready < 0 { return }
            let client = mh_shim_accept_cloexec(fd)
            if client >= 0 {
                accept(client)
            } else if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                // Out of descriptors: the connection waits in the backlog; try again shortly
                // rather than spin.
                logger("cannot accept a connection on unix:\(LogText.quote(path, keep: .tail)): \(String(cString: strerror(errno)))")
                _ = poll(&fds[1], 1, 100)
            }
        }
    }

    /// Stops accepting (waiting for the accept thread when it was started), closes the socket
    /// and removes its file if it is still ours.
    func close(started: Bool) {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        if started { finished.wait() }
        Glibc.close(fd)
        Glibc.close(wake.read)
        Glibc.close(wake.write)
        var info = stat()
        if lstat(path, &info) == 0, info.st_dev == device, info.st_ino == inode { unlink(path) }
    }

    /// Makes a missing directory 0700 (its parents too), then requires it to be the user's own
    /// and closed to everyone else.
    private static func prepareDirectory(_ directory: String, for name: String, trust: PathTrust) throws {
        try StateDirectory.makeDirectories(directory)
        do {
            _ = try trust.checkPrivateDirectory(directory)
        } catch {
            throw ConfigurationError("cannot listen on \(name): \(error)")
        }
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw ConfigurationError("cannot listen on \(name): \(directory): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ConfigurationError(
                "cannot listen on \(name): its directory \(directory) has mode \(PathTrustError.octal(info.st_mode)), open to others; the socket must be in a directory only you can open: use one of your own made with mkdir -m 700, or chmod 700 \(directory) if it is yours alone")
        }
    }

    /// A socket file nothing listens on is removed; anything else in the way is refused.
    private static func removeStale(_ path: String, name: String, notice: (String) -> Void) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ConfigurationError("cannot listen on \(name): \(path) exists and is not a socket; remove it or choose another path")
        }
        switch SocketPath.connect(path) {
        case .success(let probe):
            Glibc.close(probe)
            throw ConfigurationError(
                "cannot listen on \(name): another process is listening there (a host still running?); stop it, or give this host another path or --server-id")
        case .failure(let error) where error.code == ECONNREFUSED || error.code == ENOENT:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw ConfigurationError("cannot listen on \(name): cannot remove the stale socket: \(String(cString: strerror(errno)))")
            }
            notice("replaced a stale socket \(path) (nothing was listening on it)")
        case .failure(let error):
            throw ConfigurationError("cannot listen on \(name): \(path) is in the way: \(error)")
        }
    }
}
