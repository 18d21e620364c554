import Dispatch
import Glibc

/// inotify on the auth directory: calls `changed` (on `queue`) once files were created,
/// written, renamed, removed or had their mode changed, at most every 50 ms (a rename-into
/// and a chmod by one tool give one rescan). The poll every `pollMs` catches what inotify
/// cannot see (the directory created later, a watch limit reached).
final class DirectoryWatch: @unchecked Sendable {
    private let fd: Int32
    private let source: DispatchSourceRead
    /// Guarded by `queue`.
    private var pending = false

    /// nil when inotify is unavailable or the directory absent (the poll still runs).
    init?(path: String, queue: DispatchQueue, changed: @escaping @Sendable () -> Void) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB)
        guard inotify_add_watch(fd, path, mask) >= 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        // Weak: a handler already under way when `cancel` is called runs on, and the watch may
        // be freed meanwhile (at `stop`, before a hot swap); an unowned reference crashed the host.
        source.setEventHandler { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
            guard let self, !pending else { return }
            pending = true
            queue.asyncAfter(deadline: .now() + .milliseconds(50)) { [weak self] in
                guard let self else { return }  // the watch is gone: nobody asks for changes
                pending = false
                changed()
            }
        }
        source.setCancelHandler { close(fd) }
        source.resume()
    }

    func cancel() {
        source.cancel()
    }
}
