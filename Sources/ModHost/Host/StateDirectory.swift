import Foundation

/// The state directory, checked like the plugin directory before anything is stored in it:
/// owned by the host's user, neither group- nor world-writable, its ancestors passing the
/// ancestor rules of `PathTrust`. The directories the host makes are 0700, the database 0600, and
/// the database is never opened through a symbolic link.
///
/// Where something is wrong, the host refuses to start (one line on stderr, exit status 1)
/// naming the path and what to chmod or chown; nothing in the directory is touched.
enum StateDirectory {
    /// The database file and the companions SQLite creates beside it: none may be a symbolic
    /// link (SQLite would follow it and write wherever it points).
    static let databaseSuffixes = ["", "-wal", "-shm", "-journal"]

    /// Creates the state directory if needed (0700), checks it, and makes sure the database
    /// `<state>/<server-id>.sqlite` can be opened safely, creating it empty with mode 0600 (the
    /// WAL and shared-memory files SQLite adds take the database's mode).
    ///
    /// A database file others may read (made by an earlier version, or by hand) is made 0600,
    /// and `notice` says so.
    ///
    /// - Returns: the database path.
    /// - Throws: `ConfigurationError` naming the path and what to do.
    static func prepare(_ configuration: HostConfiguration, trust: PathTrust = PathTrust(),
                        notice: (String) -> Void = { _ in }) throws -> String {
        let directory = configuration.stateDirectory
        do {
            // Where it must be made, its parents are checked first: nothing is created under a
            // directory others can write.
            var existing = directory
            while !exists(existing) && existing != "/" && existing != "." { existing = PathTrust.parent(of: existing) }
            if existing != directory { _ = try trust.checkDirectory(existing) }
            do {
                try makeDirectories(directory)
            } catch let error as ConfigurationError {
                throw ConfigurationError("cannot create the state directory \(directory): \(error): create it yourself (mode 0700) or give another --state-dir")
            }
            _ = try trust.checkPrivateDirectory(directory)
        } catch var error as PathTrustError {
            error.purpose = .stateDirectory
            throw ConfigurationError("refusing the state directory \(directory): \(error)")
        }
        let database = "\(directory)/\(configuration.serverID).sqlite"
        for suffix in databaseSuffixes {
            let path = database + suffix
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK {
                throw ConfigurationError(
                    "refusing to open the store: \(path) is a symbolic link; the database is never opened through one: replace it with the file itself (or remove it)")
            }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw ConfigurationError("refusing to open the store: \(path) is not a regular file: remove it")
            }
            if info.st_mode & 0o077 != 0 {
                guard chmod(path, 0o600) == 0 else {
                    throw ConfigurationError("cannot make the store \(path) private (chmod 600): \(String(cString: strerror(errno)))")
                }
                notice("the store \(path) was readable by others (mode \(PathTrustError.octal(info.st_mode))); it is 0600 now")
            }
        }
        let fd = open(database, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw ConfigurationError("cannot create the store \(database): \(String(cString: strerror(errno)))")
        }
        return database
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` and any missing parent, each with mode 0700 (what exists is left as is).
    static func makeDirectories(_ path: String) throws {
        if exists(path) { return }
        let parent = PathTrust.parent(of: path)
        if parent != path && parent != "." && parent != "/" { try makeDirectories(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw ConfigurationError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }
}
