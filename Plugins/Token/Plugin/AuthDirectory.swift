import Foundation
import Glibc
import TokenCore

/// The auth directory on disk: token files read (refusing one that group or others can read),
/// written atomically, and the per-token lock files. Plain system calls; no state.
struct AuthDirectory: Sendable {
    let path: String

    func filePath(_ id: String) -> String { "\(path)/\(id).json" }
    func lockPath(_ id: String) -> String { "\(path)/.\(id).lock" }

    /// Every token file (names `TokenName` accepts), or nil when the directory cannot be read
    /// (absent: an empty list).
    func scan() -> [FileSnapshot]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            return FileManager.default.fileExists(atPath: path) ? nil : []
        }
        return names.sorted().compactMap { name in
            guard TokenName(fileName: name) != nil else { return nil }
            return read(name)
        }
    }

    /// The file `name` of the directory, or nil when it is gone.
    func read(_ name: String) -> FileSnapshot? {
        let full = "\(path)/\(name)"
        let fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            return FileSnapshot(fileName: name, content: .refused("\(full) cannot be opened: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return FileSnapshot(fileName: name, content: .refused("\(full) is not a regular file"))
        }
        let mode = info.st_mode & 0o777
        if mode & 0o077 != 0 {
            return FileSnapshot(fileName: name, content: .refused(
                "\(full) is readable by group or others (mode \(String(mode, radix: 8, uppercase: false).leftPadded(4))): chmod 600 \(full)"))
        }
        guard info.st_size <= off_t(TokenFile.maxBytes) else {
            return FileSnapshot(fileName: name, content: .refused("\(full) is \(info.st_size) bytes, over the limit of \(TokenFile.maxBytes)"))
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            count += got
        }
        return FileSnapshot(fileName: name, content: .bytes(Array(bytes.prefix(count))))
    }

    /// Writes the file of `id` atomically: a temp file in the same directory (mode 0600),
    /// fsync, rename over the file, fsync the directory. Returns nil, or what failed.
    func write(_ id: String, _ bytes: [UInt8]) -> String? {
        let target = filePath(id)
        let temp = "\(path)/.\(id).json.tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return "cannot create \(temp): \(String(cString: strerror(errno)))" }
        var written = 0
        while written < bytes.count {
            let put = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if put < 0 && errno == EINTR { continue }
            guard put > 0 else {
                let error = String(cString: strerror(errno))
                close(fd)
                unlink(temp)
                return "cannot write \(temp): \(error)"
            }
            written += put
        }
        fchmod(fd, 0o600)
        guard fsync(fd) == 0, close(fd) == 0 else {
            unlink(temp)
            return "cannot sync \(temp): \(String(cString: strerror(errno)))"
        }
        guard rename(temp, target) == 0 else {
            let error = String(cString: strerror(errno))
            unlink(temp)
            return "cannot rename \(temp) to \(target): \(error)"
        }
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return nil
    }

    /// Tries to take the lock of `id` without blocking: the open descriptor holding it, nil
    /// when another process holds it, or what failed.
    func tryLock(_ id: String) -> Result<Int32?, LockError> {
        let lock = lockPath(id)
        let fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return .failure(LockError(text: "cannot open \(lock): \(String(cString: strerror(errno)))")) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return .success(fd) }
        let error = errno
        close(fd)
        if error == EWOULDBLOCK || error == EINTR { return .success(nil) }
        return .failure(LockError(text: "cannot lock \(lock): \(String(cString: strerror(error)))"))
    }

    struct LockError: Error { let text: String }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
