import Foundation
import Synchronization

/// The host's private directory for the copies it maps, `$TMPDIR/modhost-images-XXXXXX`:
/// made by `mkdtemp` (mode 0700, an unpredictable name), in a temporary directory that passes
/// the ancestor rules of `PathTrust`, so nobody else can plant or replace a copy.
///
/// **Nothing left behind.** Each host holds an exclusive `flock` on `<dir>/lock` for its whole
/// life. A lock dies with its process, even by `kill -9`, and unlike a process id it is never
/// reused: a directory whose lock can be taken belongs to a host that is gone. When a host makes
/// its directory it first removes every `modhost-images-*` directory of its user whose lock it
/// can take (`removeStale`). It never follows a symbolic link doing so, and never removes a
/// directory it cannot lock (a live host's, or one without a lock file).
///
/// The lock file is created as `lock.new`, locked, and only then renamed to `lock`, so another
/// host's sweep never finds an unlocked lock of a host that is starting.
final class ImageDirectory: Sendable {
    static let prefix = "modhost-images-"
    static let lockName = "lock"
    /// How old (seconds, by mtime) an empty directory without a lock must be to be removed.
    static let lockGrace = 60

    let path: String
    /// The directories of dead hosts this one removed when it started.
    let removedStale: [String]
    private let lockFD: Int32
    private let removed = Atomic<Bool>(false)

    /// Checks `parent`, removes dead hosts' directories in it, and makes and locks a new one.
    ///
    /// - Throws: `ConfigurationError` naming the directory and what to do.
    init(parent: String, trust: PathTrust) throws {
        let checked: String
        do {
            checked = try trust.checkDirectory(parent)
        } catch {
            var error = error
            error.purpose = .temporaryDirectory
            throw ConfigurationError("refusing the temporary directory for plugin images (TMPDIR): \(error)")
        }
        let parent = checked
        removedStale = Self.removeStale(in: parent, userID: trust.userID)
        var template = Array("\(parent == "/" ? "" : parent)/\(Self.prefix)XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ConfigurationError("cannot create a private image directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
        let fresh = "\(path)/\(Self.lockName).new"
        let fd = open(fresh, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0, rename(fresh, "\(path)/\(Self.lockName)") == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            unlink(fresh)
            rmdir(path)
            throw ConfigurationError("cannot lock the private image directory \(path): \(reason)")
        }
        lockFD = fd
    }

    /// Removes the directory (its copies are already unlinked) and releases the lock. Idempotent.
    func remove() {
        guard !removed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        unlink("\(path)/\(Self.lockName)")
        rmdir(path)
        close(lockFD)
    }

    /// Removes each `modhost-images-*` directory in `parent` owned by `userID` whose lock nobody
    /// holds, with what is inside. Returns the paths removed.
    static func removeStale(in parent: String, userID: uid_t) -> [String] {
        let parentFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else { return [] }
        defer { close(parentFD) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            var info = stat()
            guard fstatat(parentFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == userID
            else { continue }
            if removeIfUnlocked(name, in: parentFD, parent: parent, userID: userID) { removed.append("\(parent)/\(name)") }
        }
        return removed
    }

    /// Removes `parent/name` if its lock can be taken: its files, then the directory.
    private static func removeIfUnlocked(_ name: String, in parentFD: Int32, parent: String, userID: uid_t) -> Bool {
        let directoryFD = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directoryFD >= 0 else { return false }
        defer { close(directoryFD) }
        var info = stat()
        guard fstat(directoryFD, &info) == 0, info.st_uid == userID else { return false }
        let lockFD = openat(directoryFD, lockName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard lockFD >= 0 else {
            // No lock: a directory of a host from before locks (its copies were unlinked once
            // mapped, so it is empty), or of one starting right now. Only an empty one, untouched
            // for a minute, goes: rmdir removes nothing else.
            let stale = errno == ENOENT && time(nil) - info.st_mtim.tv_sec > Self.lockGrace
            return stale && unlinkat(parentFD, name, AT_REMOVEDIR) == 0
        }
        defer { close(lockFD) }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else { return false }  // its host is alive
        // Locked by us now: nobody else removes it meanwhile. Copies first, the lock file last.
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "\(parent)/\(name)")) ?? []
        for entry in entries where entry != lockName {
            unlinkat(directoryFD, entry, 0)  // files and symbolic links only; never followed
        }
        unlinkat(directoryFD, lockName, 0)
        return unlinkat(parentFD, name, AT_REMOVEDIR) == 0
    }
}
