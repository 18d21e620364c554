import Foundation

/// Why the host does not trust a path: the component at fault, what is wrong with it, and what
/// to do. Renders as one sentence, e.g.
///
///     /srv/plugins is writable by anyone (mode 0777) without the sticky bit: move the plugin to a
///     directory only you can write, such as ~/.local/lib/modhost
///
/// A change of mode (`chmod`, `setfacl`) is advised only for a path the host's user owns that
/// is not a shared system directory (`/tmp`, `/var/tmp`, a top-level directory); a path owned by
/// someone else is never to be changed or chowned: the advice is to go elsewhere.
///
/// - Important: it names paths, owners, groups and modes only: nothing read from the file.
public struct PathTrustError: Error, Sendable, CustomStringConvertible {
    enum Fault: Error, Sendable, Equatable {
        /// The path (or a component of it) does not exist.
        case missing
        /// The path cannot be resolved for another reason; the system's.
        case unresolvable(String)
        case notRegularFile
        case notDirectory
        /// Owned by someone the host does not trust: their uid and name (if known).
        case foreignOwner(uid: uid_t, name: String?)
        /// Group-writable, and its group is not a per-user group of the owner.
        case groupWritable(mode: mode_t, group: String, verdict: GroupMembers.Verdict)
        /// Group-writable where only the host's user may write (the state directory).
        case groupWritableStrict(mode: mode_t)
        /// World-writable (a directory: without the sticky bit).
        case worldWritable(mode: mode_t, isDirectory: Bool)
        /// Its POSIX ACL lets someone else write: the named user or group.
        case aclWriter(String)
        /// A symbolic link in a sticky directory others can write, owned by someone else: they
        /// could repoint it.
        case foreignLink(uid: uid_t, name: String?)
    }

    /// What the checked path is for; it decides the advice when changing the path at fault is
    /// not the user's to do.
    enum Purpose: Sendable {
        case plugin
        case stateDirectory
        case temporaryDirectory
    }

    /// The component at fault: the file, or one of its ancestors.
    public let path: String
    let fault: Fault
    /// Who the host trusts besides root: the host's user, for the "owned by" sentence.
    let trustedUser: String
    /// Whether root counts as a trusted owner here (not for the state directory).
    let rootTrusted: Bool
    /// Whether the host's user owns the component at fault: only then is changing its mode
    /// (chmod, setfacl) advised, and never for a shared system directory.
    let ownedByUser: Bool
    /// The path as named, when the component at fault is not that path itself (an ancestor, or
    /// a link's target).
    var named: String?
    var purpose = Purpose.plugin

    init(path: String, fault: Fault, trustedUser: String, rootTrusted: Bool = true, ownedByUser: Bool = false) {
        self.path = path
        self.fault = fault
        self.trustedUser = trustedUser
        self.rootTrusted = rootTrusted
        self.ownedByUser = ownedByUser
    }

    public var description: String {
        var text = "\(path) \(sentence)"
        if let named, named != path { text += " (on the way to \(named))" }
        return text
    }

    /// Directories many users share or the system owns: their mode is never the user's to
    /// change, even when the user (root) owns them. `/tmp` without its sticky bit needs an
    /// administrator, not a `chmod o-w` that would lock every other user out.
    static let sharedDirectories: Set<String> = [
        "/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock",
        "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/lib", "/var/lib", "/var/cache",
    ]

    /// Whether `path` is `/`, a top-level directory or one of `sharedDirectories`. (A `$TMPDIR`
    /// elsewhere is the user's own choice, and theirs to fix.)
    static func isSystemDirectory(_ path: String) -> Bool {
        let normalized = PathTrust.lexicallyNormalized(path)
        return normalized.split(separator: "/").count <= 1 || sharedDirectories.contains(normalized)
    }

    /// Changing the component at fault is advised only where it is the user's to change.
    private var mayChange: Bool { ownedByUser && !Self.isSystemDirectory(path) }

    /// Where to go instead of changing a path that is not the user's.
    private var elsewhere: String {
        switch purpose {
        case .plugin: "move the plugin to a directory only you can write, such as ~/.local/lib/modhost"
        case .stateDirectory: "use a state directory only you can write (--state-dir), such as ~/.local/state/modhost"
        case .temporaryDirectory: "set TMPDIR to a directory only you can write, such as ~/.cache/modhost"
        }
    }

    /// `change` when the path is the user's to change (with the way elsewhere beside it),
    /// otherwise only the way elsewhere.
    private func advice(_ change: String) -> String {
        mayChange ? "\(change); or \(elsewhere)" : elsewhere
    }

    private var sentence: String {
        switch fault {
        case .missing:
            return "does not exist"
        case .unresolvable(let why):
            return "cannot be resolved: \(why)"
        case .notRegularFile:
            return "is not a regular file"
        case .notDirectory:
            return "is not a directory"
        case .foreignOwner(let uid, let name):
            let owner = name.map { "\($0) (uid \(uid))" } ?? "uid \(uid)"
            let trusted = rootTrusted && trustedUser != "root" ? "root or \(trustedUser), the host's user" : trustedUser
            return "is owned by \(owner), not by \(trusted): \(elsewhere)"
        case .groupWritable(let mode, let group, let verdict):
            let why = switch verdict {
            case .onlyOwner: "its group \(group) holds only its owner"
            case .others(let names): "its group \(group) has other members (\(Self.list(names)))"
            case .empty: "its group \(group) has no members"
            case .unknown: "its group \(group) does not exist"
            }
            return "is group-writable (mode \(Self.octal(mode))) and \(why): \(advice("chmod g-w \(path)"))"
        case .groupWritableStrict(let mode):
            return "is group-writable (mode \(Self.octal(mode))): \(advice("chmod g-w \(path)"))"
        case .worldWritable(let mode, false):
            return "is writable by anyone (mode \(Self.octal(mode))): \(advice("chmod o-w \(path)"))"
        case .worldWritable(let mode, true):
            return "is writable by anyone (mode \(Self.octal(mode))) without the sticky bit: "
                + advice("chmod o-w \(path), or chmod +t \(path) if others must keep writing there")
        case .aclWriter(let who):
            return "has an ACL that lets \(who) write: \(advice("remove that entry (setfacl -x) or the ACL (setfacl -b \(path))"))"
        case .foreignLink(let uid, let name):
            let owner = name.map { "\($0) (uid \(uid))" } ?? "uid \(uid)"
            return "is a symbolic link owned by \(owner) in a sticky directory others can write: they could repoint it; "
                + "name the file itself or a link of your own; or \(elsewhere)"
        }
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 3 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + " and \(names.count - 3) more"
    }
}
