import Foundation
import Synchronization

/// Who belongs to a group, for the one case where a group-writable file or directory is still
/// trusted: its group holds exactly one member, the owner (a per-user group, as Debian's
/// OpenSSH `secure_permissions` allows, so that a umask of 002 does not refuse the host's own
/// build directory).
///
/// Members are the users whose primary group it is (read with `getpwent`) and the group's
/// supplementary members (`getgrgid_r`). A group with no member at all is refused: such groups
/// usually serve setgid programs, not a user.
///
/// - Important: `getpwent` walks a process-wide cursor and is not thread-safe. Every look-up
///   here holds `lock`; callers keep it off hot paths (it runs when a plugin file is opened,
///   and only for group-writable paths).
enum GroupMembers {
    /// What a group is, as far as trust goes.
    enum Verdict: Equatable, Sendable {
        /// Its only member is the owner.
        case onlyOwner
        /// It has members other than the owner (their names, or `uid N` when a name is missing).
        case others([String])
        /// Nobody is in it.
        case empty
        /// No group with this id exists.
        case unknown
    }

    private static let lock = Mutex(())

    /// Whether group `gid` holds only the user `owner`.
    static func verdict(of gid: gid_t, owner: uid_t) -> Verdict {
        lock.withLock { _ in
            guard let group = groupEntry(gid) else { return .unknown }
            var members: [uid_t: String] = [:]
            var strangers: [String] = []
            setpwent()
            while let entry = getpwent() {
                if entry.pointee.pw_gid == gid { members[entry.pointee.pw_uid] = String(cString: entry.pointee.pw_name) }
            }
            endpwent()
            for name in group.members {
                if let uid = userID(named: name) { members[uid] = name } else { strangers.append(name) }
            }
            if members.isEmpty && strangers.isEmpty { return .empty }
            let others = members.filter { $0.key != owner }.sorted { $0.key < $1.key }.map(\.value) + strangers
            return others.isEmpty ? .onlyOwner : .others(others)
        }
    }

    /// The group's name, or nil when there is no such group.
    static func name(of gid: gid_t) -> String? {
        lock.withLock { _ in groupEntry(gid)?.name }
    }

    /// A user's name, or nil when there is no such user.
    static func userName(of uid: uid_t) -> String? {
        withUserEntry({ getpwuid_r(uid, &$0, $1, $2, &$3) }) { String(cString: $0.pw_name) }
    }

    private static func userID(named name: String) -> uid_t? {
        withUserEntry({ getpwnam_r(name, &$0, $1, $2, &$3) }) { $0.pw_uid }
    }

    /// Runs a reentrant `getpw*_r` look-up and reads the entry while its strings are valid.
    private static func withUserEntry<T>(
        _ lookUp: (inout passwd, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<passwd>?) -> Int32,
        _ read: (passwd) -> T
    ) -> T? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: 64 * 1024)
        defer { buffer.deallocate() }
        guard lookUp(&entry, buffer, 64 * 1024, &found) == 0, found != nil else { return nil }
        return read(entry)
    }

    private static func groupEntry(_ gid: gid_t) -> (name: String, members: [String])? {
        var size = 64 * 1024
        while size <= 16 << 20 {
            var entry = group()
            var found: UnsafeMutablePointer<group>?
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let status = getgrgid_r(gid, &entry, buffer, size, &found)
            if status == ERANGE {
                size *= 4
                continue
            }
            guard status == 0, found != nil else { return nil }
            var members: [String] = []
            if var cursor = entry.gr_mem {
                while let member = cursor.pointee {
                    members.append(String(cString: member))
                    cursor += 1
                }
            }
            return (String(cString: entry.gr_name), members)
        }
        return nil
    }
}
