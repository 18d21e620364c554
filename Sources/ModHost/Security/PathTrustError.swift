import Foundation

/// Why the host does not trust a path: the component at fault, what is wrong with it, and what
/// to do. Renders as one sentence, e.g.
///
///     /srv/plugins is writable by anyone (mode 0777) without the sticky bit: chmod o-w /srv/plugins
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

    /// The component at fault: the file, or one of its ancestors.
    public let path: String
    let fault: Fault
    /// Who the host trusts besides root: the host's user, for the "owned by" sentence.
    let trustedUser: String
    /// Whether root counts as a trusted owner here (not for the state directory).
    let rootTrusted: Bool
    /// The path as named, when the component at fault is not that path itself (an ancestor, or
    /// a link's target).
    var named: String?

    init(path: String, fault: Fault, trustedUser: String, rootTrusted: Bool = true) {
        self.path = path
        self.fault = fault
        self.trustedUser = trustedUser
        self.rootTrusted = rootTrusted
    }

    public var description: String {
        var text = "\(path) \(sentence)"
        if let named, named != path { text += " (on the way to \(named))" }
        return text
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
            return "is owned by \(owner), not by \(trusted): chown \(trustedUser) \(path), or use a path the host's user controls"
        case .groupWritable(let mode, let group, let verdict):
            let why = switch verdict {
            case .onlyOwner: "its group \(group) holds only its owner"
            case .others(let names): "its group \(group) has other members (\(Self.list(names)))"
            case .empty: "its group \(group) has no members"
            case .unknown: "its group \(group) does not exist"
            }
            return "is group-writable (mode \(Self.octal(mode))) and \(why): chmod g-w \(path)"
        case .groupWritableStrict(let mode):
            return "is group-writable (mode \(Self.octal(mode))): chmod g-w \(path)"
        case .worldWritable(let mode, false):
            return "is writable by anyone (mode \(Self.octal(mode))): chmod o-w \(path)"
        case .worldWritable(let mode, true):
            return "is writable by anyone (mode \(Self.octal(mode))) without the sticky bit: chmod o-w \(path), "
                + "or chmod +t \(path) if others must keep writing there"
        case .aclWriter(let who):
            return "has an ACL that lets \(who) write: remove that entry (setfacl -x) or the ACL (setfacl -b \(path))"
        case .foreignLink(let uid, let name):
            let owner = name.map { "\($0) (uid \(uid))" } ?? "uid \(uid)"
            return "is a symbolic link owned by \(owner) in a sticky directory others can write: they could repoint it; "
                + "name the file itself, or a link of your own"
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
