import Foundation

/// Whether the host may trust a path: the rules of sshd's StrictModes (`safe_path`), with
/// Debian's exception for per-user groups (`secure_permissions`), applied to every directory
/// and symbolic link the path goes through.
///
/// A plugin file is trusted when the file and every directory on the way to it are
/// - owned by root or by the host's user;
/// - not writable by anyone, except a directory with the sticky bit (`/tmp`, mode 1777): there
///   nobody but an entry's owner can rename or remove the entry, and the entries on the path are
///   all owned by root or the host's user;
/// - not group-writable, except when the group holds only the owner (`GroupMembers`), or for a
///   sticky directory; where the group bits allow writing, the POSIX ACL's named entries may
///   not let anyone else write either (`AccessACL`).
///
/// The path is resolved one component at a time, as the kernel does, rather than with
/// `realpath` and a check of the result: every directory a symbolic link lies in is checked
/// (whoever can write it decides what the link points to), a link in a sticky directory others
/// can write must be owned by root or the host's user (its owner could repoint it), and so a
/// chain of links through a directory others control is refused wherever it goes.
///
/// - Important: these checks read the file system by path. Open the resolved path with
///   `O_NOFOLLOW` afterwards and apply `checkFile(_:at:acl:)` to the descriptor's `fstat` and
///   ACL, so that a file swapped in between is caught.
struct PathTrust: Sendable {
    /// The host's (effective) user. Root is trusted as an owner too, except for private
    /// directories, which must be the user's own.
    let userID: uid_t
    let userName: String

    /// More links than this on one path is a loop (the kernel's limit).
    static let maxLinks = 40

    init(userID: uid_t = geteuid()) {
        self.userID = userID
        userName = GroupMembers.userName(of: userID) ?? "\(userID)"
    }

    // MARK: Paths

    /// Resolves `path`, checking every directory and link on the way, then the file.
    ///
    /// - Returns: the resolved path, to open with `O_NOFOLLOW`.
    func checkFile(_ path: String) throws(PathTrustError) -> String {
        do throws(PathTrustError) {
            let resolved = try walk(path)
            try checkFile(status(resolved), at: resolved) { () throws(PathTrustError.Fault) in try AccessACL.of(path: resolved) }
            return resolved
        } catch {
            throw annotated(error, named: path)
        }
    }

    /// A directory the host creates its own entries in (the temporary directory): it and the
    /// way to it must pass the directory rules. Returns the resolved path.
    func checkDirectory(_ path: String) throws(PathTrustError) -> String {
        do throws(PathTrustError) {
            let resolved = try walk(path)
            try checkDirectory(status(resolved), at: resolved)
            return resolved
        } catch {
            throw annotated(error, named: path)
        }
    }

    /// A directory only the host's user may write (the state directory): owned by that user
    /// (not root, unless the host runs as root), neither group- nor world-writable, sticky or
    /// not; the way to it follows the directory rules. Returns the resolved path.
    func checkPrivateDirectory(_ path: String) throws(PathTrustError) -> String {
        do throws(PathTrustError) {
            let resolved = try walk(path)
            let info = try status(resolved)
            guard info.st_mode & S_IFMT == S_IFDIR else { throw fault(resolved, .notDirectory) }
            guard info.st_uid == userID else {
                throw PathTrustError(path: resolved, fault: .foreignOwner(uid: info.st_uid, name: GroupMembers.userName(of: info.st_uid)),
                                     trustedUser: userName, rootTrusted: false)
            }
            if info.st_mode & S_IWOTH != 0 { throw fault(resolved, .worldWritable(mode: info.st_mode, isDirectory: false)) }
            if info.st_mode & S_IWGRP != 0 { throw fault(resolved, .groupWritableStrict(mode: info.st_mode)) }
            return resolved
        } catch {
            throw annotated(error, named: path)
        }
    }

    // MARK: Rules

    /// The rule for the file itself; also for the `fstat` of the opened descriptor. `acl`
    /// reads the file's ACL, consulted only when the group bits allow writing.
    func checkFile(_ info: stat, at path: String, acl: () throws(PathTrustError.Fault) -> AccessACL? = { nil })
        throws(PathTrustError)
    {
        guard info.st_mode & S_IFMT == S_IFREG else { throw fault(path, .notRegularFile) }
        try checkOwner(info, at: path)
        if info.st_mode & S_IWOTH != 0 { throw fault(path, .worldWritable(mode: info.st_mode, isDirectory: false)) }
        if info.st_mode & S_IWGRP != 0 { try checkGroupWriters(info, at: path, acl: acl) }
    }

    /// The rule for a directory on the way to a trusted file.
    func checkDirectory(_ info: stat, at path: String, acl: () throws(PathTrustError.Fault) -> AccessACL? = { nil })
        throws(PathTrustError)
    {
        guard info.st_mode & S_IFMT == S_IFDIR else { throw fault(path, .notDirectory) }
        try checkOwner(info, at: path)
        guard info.st_mode & S_ISVTX == 0 else { return }  // sticky: only an entry's owner can replace it
        if info.st_mode & S_IWOTH != 0 { throw fault(path, .worldWritable(mode: info.st_mode, isDirectory: true)) }
        if info.st_mode & S_IWGRP != 0 { try checkGroupWriters(info, at: path, acl: acl) }
    }

    private func checkOwner(_ info: stat, at path: String) throws(PathTrustError) {
        guard info.st_uid == 0 || info.st_uid == userID else {
            throw fault(path, .foreignOwner(uid: info.st_uid, name: GroupMembers.userName(of: info.st_uid)))
        }
    }

    /// The group bits allow writing: without an ACL that is the owning group, which must hold
    /// only the owner; with one, the bits are its mask, and every entry that may write counts.
    private func checkGroupWriters(_ info: stat, at path: String, acl: () throws(PathTrustError.Fault) -> AccessACL?)
        throws(PathTrustError)
    {
        let found: AccessACL?
        do throws(PathTrustError.Fault) {
            found = try acl()
        } catch {
            throw fault(path, error)
        }
        guard let entries = found else { return try checkGroup(info.st_gid, of: info, at: path) }
        for writer in entries.writers {
            switch writer {
            case .owningGroup:
                try checkGroup(info.st_gid, of: info, at: path)
            case .group(let gid):
                try checkGroup(gid, of: info, at: path, named: true)
            case .user(let uid) where uid != 0 && uid != userID:
                throw fault(path, .aclWriter("user \(GroupMembers.userName(of: uid) ?? "uid \(uid)")"))
            case .user:
                break
            }
        }
    }

    private func checkGroup(_ gid: gid_t, of info: stat, at path: String, named: Bool = false) throws(PathTrustError) {
        let verdict = GroupMembers.verdict(of: gid, owner: info.st_uid)
        guard verdict == .onlyOwner else {
            let group = GroupMembers.name(of: gid) ?? "gid \(gid)"
            throw fault(path, named ? .aclWriter("group \(group)") : .groupWritable(mode: info.st_mode, group: group, verdict: verdict))
        }
    }

    /// A symbolic link found in `directory` (already checked): in a sticky directory others can
    /// write, its owner could repoint it, so it must be root or the host's user.
    private func checkLink(_ info: stat, at path: String, in directory: stat) throws(PathTrustError) {
        let sharedSticky = directory.st_mode & S_ISVTX != 0 && directory.st_mode & (S_IWOTH | S_IWGRP) != 0
        guard sharedSticky, info.st_uid != 0, info.st_uid != userID else { return }
        throw fault(path, .foreignLink(uid: info.st_uid, name: GroupMembers.userName(of: info.st_uid)))
    }

    // MARK: Resolving

    /// Resolves `path` component by component from `/` (or the working directory), checking each
    /// directory it enters and each link it follows, and returns the resolved path of its last
    /// component (not checked here: the caller applies the file or directory rule to it).
    private func walk(_ path: String) throws(PathTrustError) -> String {
        let start = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var pending = Self.components(start).reversed() as [Substring]
        var current = "/"
        var currentInfo = try status("/")
        try checkDirectory(currentInfo, at: "/")
        var links = 0
        while let part = pending.popLast() {
            if part == ".." {
                current = Self.parent(of: current)  // reached through checked directories
                currentInfo = try status(current)
                continue
            }
            let next = current == "/" ? "/" + part : current + "/" + part
            let info = try status(next)
            if info.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= Self.maxLinks else { throw fault(next, .unresolvable("too many levels of symbolic links")) }
                try checkLink(info, at: next, in: currentInfo)
                let target = try linkTarget(next)
                if target.hasPrefix("/") {
                    current = "/"
                    currentInfo = try status("/")
                }
                pending.append(contentsOf: Self.components(target).reversed())
                continue
            }
            guard !pending.isEmpty else { return next }
            try checkDirectory(info, at: next) { () throws(PathTrustError.Fault) in try AccessACL.of(path: next) }
            current = next
            currentInfo = info
        }
        return current
    }

    private static func components(_ path: String) -> [Substring] {
        path.split(separator: "/").filter { $0 != "." }
    }

    private func linkTarget(_ path: String) throws(PathTrustError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw fault(path, .unresolvable(String(cString: strerror(errno)))) }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func status(_ path: String) throws(PathTrustError) -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw fault(path, errno == ENOENT ? .missing : .unresolvable(String(cString: strerror(errno))))
        }
        return info
    }

    // MARK: Helpers

    /// The refusal for `path`, saying whether the host's user owns it (which decides the advice).
    private func fault(_ path: String, _ fault: PathTrustError.Fault) -> PathTrustError {
        var info = stat()
        let owned = lstat(path, &info) == 0 && info.st_uid == userID
        return PathTrustError(path: path, fault: fault, trustedUser: userName, ownedByUser: owned)
    }

    /// Names the path as given beside the component at fault, when they differ.
    private func annotated(_ error: PathTrustError, named: String) -> PathTrustError {
        var error = error
        if Self.lexicallyNormalized(named) != error.path { error.named = named }
        return error
    }

    /// `path` with symbolic links resolved (`realpath`), or nil when it cannot be.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
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
