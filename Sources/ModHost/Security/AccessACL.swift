import CModHostShims
import Foundation

/// A file's POSIX access ACL (`system.posix_acl_access`), as far as trust goes: who besides the
/// mode's owner, group and others may write.
///
/// With an ACL, a file's group mode bits are the ACL's mask, not its owning group's permissions:
/// a root-owned 0644 file given `u:bob:rw` reads as 0664 with group root, which the per-user
/// group exception would trust. So wherever the group bits allow writing, the host reads the
/// ACL and checks each entry that may write: a named user must be trusted (root or the host's
/// user), a named group or the owning group must hold only the owner.
struct AccessACL: Equatable, Sendable {
    /// An entry that grants write (the mask permitting).
    enum Writer: Equatable, Sendable {
        case user(uid_t)
        case group(gid_t)
        case owningGroup
    }

    /// The entries that grant write, in the ACL's order.
    let writers: [Writer]

    /// The xattr's name, and the layout of `linux/posix_acl_xattr.h`: a 4-byte version (2),
    /// then 8-byte entries {tag u16, perm u16, id u32}, little-endian.
    static let attribute = "system.posix_acl_access"
    private static let userTag: UInt16 = 0x02, groupObjectTag: UInt16 = 0x04, groupTag: UInt16 = 0x08
    private static let writePermission: UInt16 = 0x02

    /// Parses the xattr's bytes; nil when they are not an ACL of a version the host knows.
    init?(xattr bytes: [UInt8]) {
        guard bytes.count >= 4, (bytes.count - 4) % 8 == 0 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        guard u32(0) == 2 else { return nil }
        var writers: [Writer] = []
        for entry in stride(from: 4, to: bytes.count, by: 8) where u16(entry + 2) & Self.writePermission != 0 {
            switch u16(entry) {
            case Self.userTag: writers.append(.user(uid_t(u32(entry + 4))))
            case Self.groupTag: writers.append(.group(gid_t(u32(entry + 4))))
            case Self.groupObjectTag: writers.append(.owningGroup)
            default: break  // the owner, the mask and others are in the mode bits already
            }
        }
        self.writers = writers
    }

    /// The ACL of `path` itself (a symbolic link is not followed); nil when it has none.
    static func of(path: String) throws(PathTrustError.Fault) -> AccessACL? {
        try read { mh_shim_lgetxattr(path, attribute, $0, $1) }
    }

    /// The ACL of an open file; nil when it has none.
    static func of(fd: Int32) throws(PathTrustError.Fault) -> AccessACL? {
        try read { mh_shim_fgetxattr(fd, attribute, $0, $1) }
    }

    private static func read(_ get: (UnsafeMutableRawPointer?, Int) -> Int) throws(PathTrustError.Fault) -> AccessACL? {
        var bytes = [UInt8](repeating: 0, count: 4 + 8 * 64)
        let count = bytes.withUnsafeMutableBytes { get($0.baseAddress, $0.count) }
        guard count >= 0 else {
            // No ACL, or a file system without them: the mode bits say it all. (A file gone since
            // its lstat is no file to trust; opening it, and the check of the descriptor, says so.)
            if errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOENT { return nil }
            throw .unresolvable("cannot read its ACL: \(String(cString: strerror(errno)))")
        }
        guard let acl = AccessACL(xattr: Array(bytes.prefix(count))) else { throw .unresolvable("its ACL is in a format the host does not know") }
        return acl
    }
}
