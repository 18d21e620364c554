import Foundation

/// Whether the host may trust a path: the rules of sshd's StrictModes (`safe_path`), with
/// Debian's exception for per-user groups (`secure_permissions`).
///
/// A plugin file is trusted when, after resolving symbolic links, the file and every ancestor up
/// to `/` are
/// - owned by root or by the host's user;
/// - not writable by anyone, except a directory with the sticky bit (`/tmp`, mode 1777): there
///   nobody but an entry's owner can rename or remove the entry, and the entries on the path are
///   all owned by root or the host's user;
/// - not group-writable, except when the group holds only the owner (`GroupMembers`), or for a
///   sticky directory.
///
/// The file must be a regular file. A symbolic link is resolved (`realpath`) and its target is
/// what is checked; the directory holding the name as given is checked too, since whoever can
/// write it decides what the name points to.
///
/// - Important: these checks read the file system by path. Open the resolved path with
///   `O_NOFOLLOW` afterwards and apply `checkFile(_:at:)` to the descriptor's `fstat`, so that a
///   file swapped in between is caught.
struct PathTrust: Sendable {
    /// The host's (effective) user. Root is trusted as an owner too, except for private
    /// directories, which must be the user's own.
    let userID: uid_t
    let userName: String

    init(userID: uid_t = geteuid()) {
        self.userID = userID
        userName = GroupMembers.userName(of: userID) ?? "\(userID)"
    }

    // MARK: Paths

    /// Resolves `path` and checks the file, its ancestors, and the directory holding the name.
    ///
    /// - Returns: the resolved path, to open with `O_NOFOLLOW`.
    func checkFile(_ path: String) throws(PathTrustError) -> String {
        let resolved = try resolve(path)
        do {
            try checkFile(status(resolved), at: resolved)
            try checkAncestors(of: resolved)
            let holder = try resolve(Self.parent(of: path))
            if holder != Self.parent(of: resolved) { try checkDirectoryAndAncestors(holder) }
        } catch {
            throw annotated(error, named: path, resolved: resolved)
        }
        return resolved
    }

    /// A directory the host creates its own entries in (the temporary directory): the directory
    /// and its ancestors must pass the ancestor rules. Returns the resolved path.
    func checkDirectory(_ path: String) throws(PathTrustError) -> String {
        let resolved = try resolve(path)
        do {
            try checkDirectoryAndAncestors(resolved)
        } catch {
            throw annotated(error, named: path, resolved: resolved)
        }
        return resolved
    }

    /// A directory only the host's user may write (the state directory): owned by that user
    /// (not root, unless the host runs as root), neither group- nor world-writable, sticky or
    /// not; its ancestors follow the ancestor rules. Returns the resolved path.
    func checkPrivateDirectory(_ path: String) throws(PathTrustError) -> String {
        let resolved = try resolve(path)
        do throws(PathTrustError) {
            let info = try status(resolved)
            guard info.st_mode & S_IFMT == S_IFDIR else { throw fault(resolved, .notDirectory) }
            guard info.st_uid == userID else {
                throw PathTrustError(path: resolved, fault: .foreignOwner(uid: info.st_uid, name: GroupMembers.userName(of: info.st_uid)),
                                     trustedUser: userName, rootTrusted: false)
            }
            if info.st_mode & S_IWOTH != 0 { throw fault(resolved, .worldWritable(mode: info.st_mode, isDirectory: false)) }
            if info.st_mode & S_IWGRP != 0 { throw fault(resolved, .groupWritableStrict(mode: info.st_mode)) }
            try checkAncestors(of: resolved)
        } catch {
            throw annotated(error, named: path, resolved: resolved)
        }
        return resolved
    }

    // MARK: Rules

    /// The rule for the file itself; also for the `fstat` of the opened descriptor.
    func checkFile(_ info: stat, at path: String) throws(PathTrustError) {
        guard info.st_mode & S_IFMT == S_IFREG else { throw fault(path, .notRegularFile) }
        try checkOwner(info, at: path)
        if info.st_mode & S_IWOTH != 0 { throw fault(path, .worldWritable(mode: info.st_mode, isDirectory: false)) }
        if info.st_mode & S_IWGRP != 0 { try checkGroup(info, at: path) }
    }

    /// The rule for a directory on the way to a trusted file.
    func checkDirectory(_ info: stat, at path: String) throws(PathTrustError) {
        guard info.st_mode & S_IFMT == S_IFDIR else { throw fault(path, .notDirectory) }
        try checkOwner(info, at: path)
        guard info.st_mode & S_ISVTX == 0 else { return }  // sticky: only an entry's owner can replace it
        if info.st_mode & S_IWOTH != 0 { throw fault(path, .worldWritable(mode: info.st_mode, isDirectory: true)) }
        if info.st_mode & S_IWGRP != 0 { try checkGroup(info, at: path) }
    }

    private func checkOwner(_ info: stat, at path: String) throws(PathTrustError) {
        guard info.st_uid == 0 || info.st_uid == userID else {
            throw fault(path, .foreignOwner(uid: info.st_uid, name: GroupMembers.userName(of: info.st_uid)))
        }
    }

    private func checkGroup(_ info: stat, at path: String) throws(PathTrustError) {
        let verdict = GroupMembers.verdict(of: info.st_gid, owner: info.st_uid)
        guard verdict == .onlyOwner else {
            let group = GroupMembers.name(of: info.st_gid) ?? "gid \(info.st_gid)"
            throw fault(path, .groupWritable(mode: info.st_mode, group: group, verdict: verdict))
        }
    }

    /// Every ancestor of the resolved path `resolved`, up to and including `/`.
    private func checkAncestors(of resolved: String) throws(PathTrustError) {
        guard resolved != "/" else { return }
        try checkDirectoryAndAncestors(Self.parent(of: resolved))
    }

    private func checkDirectoryAndAncestors(_ resolved: String) throws(PathTrustError) {
        var current = resolved
        while true {
            try checkDirectory(status(current), at: current)
            if current == "/" { return }
            current = Self.parent(of: current)
        }
    }

    // MARK: Helpers

    private func fault(_ path: String, _ fault: PathTrustError.Fault) -> PathTrustError {
        PathTrustError(path: path, fault: fault, trustedUser: userName)
    }

    private func annotated(_ error: PathTrustError, named: String, resolved: String) -> PathTrustError {
        var error = error
        if Self.lexicallyNormalized(named) != resolved {
            error.named = named
            error.resolved = resolved
        }
        return error
    }

    private func resolve(_ path: String) throws(PathTrustError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw fault(path, errno == ENOENT ? .missing : .unresolvable(String(cString: strerror(errno))))
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func status(_ path: String) throws(PathTrustError) -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw fault(path, errno == ENOENT ? .missing : .unresolvable(String(cString: strerror(errno))))
        }
        return info
    }

    /// The directory holding `path` ("." for a bare name, "/" for "/").
    static func parent(of path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let head = trimmed[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    /// `path` made absolute, without `.`, `..` or repeated slashes; symbolic links left alone.
    static func lexicallyNormalized(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
