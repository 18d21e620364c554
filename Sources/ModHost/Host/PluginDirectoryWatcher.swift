import Dispatch
import Foundation
import Logging
import Synchronization
import ModHostSupport

/// The drop-in plugin directory: watches it with inotify and applies what changes to the
/// registry. A new `*.so` is loaded, a replaced one hot-swapped, a removed one unloaded (unless
/// running modules require it: then it stays, with a warning).
///
/// A change is acted on only once its name has been quiet for the settle time and its file is
/// complete: a regular file whose size and modification time held still over that time, with no
/// write outstanding (a create or modify not yet followed by its close). A rename into place is
/// complete at once, so it is the way to install a file; a `cp` is acted on after its close.
///
/// Threads:
/// - `init`, `start` and `stop` run on the host's main thread, at start-up and shutdown. `init`
///   adds the inotify watch (call it before loading the directory, so nothing that changes
///   meanwhile is missed); `start` launches the watcher thread; `stop` ends it and waits.
/// - The watcher thread ("modhost-watch") owns the inotify descriptor and the debounce table. It
///   reads events, waits with `poll` for names to settle, and hands settled names to the control
///   queue. It changes nothing in the registry (after lost events it reads its list of modules
///   to know which files to look at again).
/// - The control queue (`runtime.control`) decides and acts, one change at a time, serialized
///   with `modules.load/unload/swap/rollback` requests: it looks at the file and the registry
///   as they are when its turn comes.
/// - `shared` (a mutex) is what the two threads share: the stop flag, the names with a newer
///   change still settling, and what each file looked like when it was last applied.
///
/// Failures are logged on stderr and never stop the watcher. A failed swap publishes
/// `modules.swap_failed` (the registry does); a failed load publishes `modules.load_failed`
/// `{file, reason}` (the watcher does, since `Registry.load` reports by throwing).
final class PluginDirectoryWatcher: Sendable {
    /// The directory as configured; paths are `<directory>/<name>`, as at start-up.
    let directory: String
    /// How long a changed name must be quiet before its file is looked at.
    let settleTime: Duration

    private let runtime: HostRuntime
    private let logger: Logger
    private let inotify: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let shared = Mutex(Shared())
    private let finished = DispatchSemaphore(value: 0)

    /// After this long quiet with a write still open, the watcher says it is waiting for it.
    private static let openWriteNotice: Duration = .seconds(10)
    private static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_MODIFY)
    private static let bufferSize = 64 * 1024

    private struct Shared {
        var phase = Phase.idle
        /// Names with a change the watcher thread has not handed over yet: a hand-over already
        /// queued for one of them is stale and skipped.
        var unsettled: Set<String> = []
        /// By normalized path: the file as it was when it was last loaded or swapped in.
        var applied: [String: FileFingerprint] = [:]
    }

    private enum Phase {
        case idle, running, stopped
    }

    /// A changed name on the watcher thread, waiting to settle.
    private struct Pending {
        var quietUntil: ContinuousClock.Instant
        /// A create or modify was seen and its close was not.
        var writing = false
        /// The file as it was after the last event (nil: absent).
        var seen: FileFingerprint?
        var noticed = false
    }

    /// Opens inotify and adds the watch on `directory`; events are kept until `start`.
    ///
    /// - Throws: `ConfigurationError` when inotify is unavailable or the directory cannot be
    ///   watched (it does not exist, or is not readable).
    init(directory: String, settleTime: Duration, runtime: HostRuntime) throws {
        self.directory = directory
        self.settleTime = settleTime
        self.runtime = runtime
        logger = runtime.logger
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard inotify >= 0 else {
            throw ConfigurationError("inotify_init1 failed: \(String(cString: strerror(errno)))")
        }
        guard inotify_add_watch(inotify, directory, Self.mask) >= 0 else {
            let reason = String(cString: strerror(errno))
            close(inotify)
            throw ConfigurationError("cannot watch \(directory): \(reason)")
        }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            let reason = String(cString: strerror(errno))
            close(inotify)
            throw ConfigurationError("cannot create the watcher's wake-up pipe: \(reason)")
        }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
    }

    /// Starts the watcher thread. Call once, after the directory's start-up load.
    func start() {
        let starting = shared.withLock { shared in
            guard shared.phase == .idle else { return false }
            shared.phase = .running
            return true
        }
        guard starting else { return }
        let thread = Thread { [self] in
            CrashReport.prepareThread()
            watch()
            finished.signal()
        }
        thread.name = "modhost-watch"
        thread.start()
        logger.info("watching \(directory) for plugin changes (settle time \(Int(settleTime.seconds * 1000)) ms)")
    }

    /// Stops watching: changes not yet applied are dropped, one being applied on the control
    /// queue finishes. Waits for the watcher thread to end. Call before the registry shuts down.
    func stop() {
        let previous = shared.withLock { shared in
            defer { shared.phase = .stopped }
            return shared.phase
        }
        switch previous {
        case .stopped:
            return
        case .running:
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
            finished.wait()
        case .idle:
            break
        }
        close(inotify)
        close(wakeRead)
        close(wakeWrite)
    }

    // MARK: The watcher thread

    /// The watcher thread's loop: read events, settle, hand over; until `stop` wakes it.
    private func watch() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.bufferSize, alignment: MemoryLayout<inotify_event>.alignment)
        defer { buffer.deallocate() }
        var pending: [String: Pending] = [:]
        while true {
            var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, pollTimeout(pending))
            if ready < 0 {
                guard errno == EINTR else {
                    logger.error("plugin directory watcher: poll failed: \(String(cString: strerror(errno))); no longer watching \(directory)")
                    return
                }
                continue
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents != 0 {
                guard readEvents(into: &pending, buffer: buffer) else { return }
            }
            handOver(settledNames(in: &pending))
        }
    }

    /// Milliseconds until the next name is due (-1: nothing to wait for).
    private func pollTimeout(_ pending: [String: Pending]) -> Int32 {
        let due = pending.values.compactMap { entry -> ContinuousClock.Instant? in
            if !entry.writing { return entry.quietUntil }
            return entry.noticed ? nil : entry.quietUntil + Self.openWriteNotice
        }.min()
        guard let due else { return -1 }
        let wait = due - ContinuousClock.now
        guard wait > .zero else { return 0 }
        return Int32(min((wait.seconds * 1000).rounded(.up), 60_000))
    }

    /// Reads every queued event into `pending`. Returns false when the watch is gone.
    private func readEvents(into pending: inout [String: Pending], buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let header = MemoryLayout<inotify_event>.size
        var touched: Set<String> = []
        var watching = true
        while true {
            let count = read(inotify, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN {
                    logger.error("plugin directory watcher: read failed: \(String(cString: strerror(errno)))")
                }
                break
            }
            guard count > 0 else { break }
            var offset = 0
            while offset + header <= count {
                let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + header)..<min(offset + header + length, count)])
                offset += header + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    logger.warning("plugin directory watcher: events were lost (queue overflow); rescanning \(directory)")
                    touched.formUnion(rescan())
                    continue
                }
                if mask & UInt32(IN_IGNORED) != 0 {
                    logger.warning("plugin directory \(directory) was removed or unmounted; no longer watching it")
                    watching = false
                    continue
                }
                guard mask & UInt32(IN_ISDIR) == 0,
                    let name = String(validating: nameBytes.prefix { $0 != 0 }, as: UTF8.self), name.hasSuffix(".so")
                else { continue }
                var entry = pending[name] ?? Pending(quietUntil: .now)
                if mask & UInt32(IN_CREATE) != 0 { entry.writing = isOpenedForWriting(name) }
                if mask & UInt32(IN_MODIFY) != 0 { entry.writing = true }
                if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) != 0 { entry.writing = false }
                pending[name] = entry
                touched.insert(name)
            }
        }
        let quietUntil = ContinuousClock.now + settleTime
        for name in touched {
            var entry = pending[name] ?? Pending(quietUntil: quietUntil)
            entry.quietUntil = quietUntil
            entry.seen = FileFingerprint(path(name))
            entry.noticed = false
            pending[name] = entry
        }
        shared.withLock { $0.unsettled.formUnion(touched) }
        return watching
    }

    /// After `IN_CREATE`: whether a writer has the new file open (a regular file with one link),
    /// rather than a link or a symbolic link made to something already complete.
    private func isOpenedForWriting(_ name: String) -> Bool {
        var info = stat()
        guard lstat(path(name), &info) == 0 else { return false }
        return info.st_mode & S_IFMT == S_IFREG && info.st_nlink == 1
    }

    /// Every name worth a look after lost events: the directory's `*.so` files and the files
    /// modules were loaded from in this directory.
    private func rescan() -> Set<String> {
        var names = Set(PluginLoader.pluginFiles(in: directory).map { ($0 as NSString).lastPathComponent })
        let here = Self.normalized(directory)
        for entry in runtime.registry.entries {
            let file = Self.normalized(entry.instance.image.file)
            if (file as NSString).deletingLastPathComponent == here { names.insert((file as NSString).lastPathComponent) }
        }
        return names
    }

    /// Removes from `pending` the names that are settled and complete; returns them with what
    /// the file looked like (nil: gone).
    private func settledNames(in pending: inout [String: Pending]) -> [(name: String, file: FileFingerprint?)] {
        let now = ContinuousClock.now
        var settled: [(name: String, file: FileFingerprint?)] = []
        for (name, var entry) in pending where entry.quietUntil <= now {
            if entry.writing {
                if !entry.noticed && now >= entry.quietUntil + Self.openWriteNotice {
                    logger.notice("plugin directory: \(LogText.quote(name)) is still open for writing; waiting for it to be closed")
                    entry.noticed = true
                    pending[name] = entry
                }
                continue
            }
            let current = FileFingerprint(path(name))
            guard current == entry.seen else {
                // Changed without an event we watch (a write through mmap, a touch): wait again.
                entry.seen = current
                entry.quietUntil = now + settleTime
                pending[name] = entry
                continue
            }
            pending[name] = nil
            if let current, !current.isRegularFile {
                logger.warning("plugin directory: \(LogText.quote(name)) is not a regular file; ignored")
                shared.withLock { _ = $0.unsettled.remove(name) }
                continue
            }
            settled.append((name, current))
        }
        return settled
    }

    /// Queues the settled names on the control queue: removals first, so that a rename within
    /// the directory unloads the old name before it loads the new one.
    private func handOver(_ settled: [(name: String, file: FileFingerprint?)]) {
        guard !settled.isEmpty else { return }
        let ordered = settled.sorted { ($0.file == nil ? 0 : 1, $0.name) < ($1.file == nil ? 0 : 1, $1.name) }
        shared.withLock { shared in
            for item in ordered { shared.unsettled.remove(item.name) }
        }
        for item in ordered {
            // A file that is there may be loaded: calls to a module not known yet wait for it.
            let mayLoad = item.file != nil
            if mayLoad { runtime.loads.begin() }
            runtime.control.async { [self] in
                CrashReport.prepareThread()  // plugin code (init, start, a swap) runs here
                apply(item.name)
                if mayLoad { runtime.loads.end() }
            }
        }
    }

    // MARK: The control queue

    /// Applies the change of `name` (on the control queue): swap, load or unload, from the file
    /// and the registry as they are now.
    private func apply(_ name: String) {
        let stale = shared.withLock { $0.phase != .running || $0.unsettled.contains(name) }
        guard !stale else { return }
        let path = path(name)
        let key = Self.normalized(path)
        let file = FileFingerprint(path)
        let loaded = runtime.registry.entries.first { Self.normalized($0.instance.image.file) == key }
        let drainTimeout = runtime.configuration.drainTimeout

        switch (file, loaded) {
        case (nil, nil):
            logger.debug("plugin directory: \(LogText.quote(name)) is gone; no module was loaded from it")
        case (nil, let entry?):
            let id = entry.instance.id
            logger.info("plugin directory: \(LogText.quote(name)) was removed: unloading \(id)")
            shared.withLock { _ = $0.applied.removeValue(forKey: key) }
            do throws(RPCError) {
                try runtime.registry.unload(id, force: false, drainTimeout: drainTimeout)
            } catch where error.code == RPCError.refusedCode {
                logger.warning("plugin directory: \(LogText.quote(name)) was removed, but \(id) stays loaded: \(error.message)")
            } catch {
                logger.error("plugin directory: \(LogText.quote(name)) was removed; unloading \(id) failed: \(error.message)")
            }
        case (let file?, let entry?) where entry.instance.state == .running:
            let id = entry.instance.id
            guard shared.withLock({ $0.applied[key] }) != file else {
                logger.debug("plugin directory: \(LogText.quote(name)) is unchanged since \(id) was loaded from it")
                return
            }
            logger.info("plugin directory: \(LogText.quote(name)) was replaced: hot-swapping \(id)")
            shared.withLock { $0.applied[key] = file }
            // A failure is logged and published (modules.swap_failed) by the registry.
            _ = try? runtime.registry.swap(id, path: path, config: nil, drainTimeout: drainTimeout)
        case (let file?, _):
            logger.info("plugin directory: \(LogText.quote(name)) appeared: loading it")
            shared.withLock { $0.applied[key] = file }
            do throws(LoadError) {
                _ = try runtime.registry.load(path, config: nil)
            } catch .disabled(let what, let option) {
                // Not a failure: the user asked for it to be left out.
                logger.info("plugin directory: \(LogText.quote(name)) skipped: \(LogText.line(LoadError.disabled(what: what, option: option).description))")
            } catch {
                logger.error("plugin directory: \(LogText.quote(name)) not loaded: \(LogText.line(error.description))")
                var data = JSONObject()
                data.add("file", path)
                data.add("reason", error.description)
                runtime.events.publish(topic: "modules.load_failed", data: data.result)
            }
        }
    }

    // MARK: Paths

    private func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// An absolute path without `.`, `..` or repeated slashes, spelled the same whichever way the
    /// directory was given (symbolic links are left alone).
    static func normalized(_ path: String) -> String { PathTrust.lexicallyNormalized(path) }
}
