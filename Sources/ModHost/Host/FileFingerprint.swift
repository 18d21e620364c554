import Foundation

/// What a file looks like on disk: which file it is (device and inode) and whether it changed
/// (size, modification time). The plugin directory watcher compares them to tell a settled file.
struct FileFingerprint: Equatable, Codable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int
    let isRegularFile: Bool

    /// Reads `path` (following symbolic links, as the loader does); nil when there is nothing.
    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        isRegularFile = info.st_mode & S_IFMT == S_IFREG
    }
}
