import Foundation
import ModHostTestKit
@testable import ModHost
import Testing

/// The trust rules on made-up `stat` values (sshd StrictModes with Debian's exceptions), and how
/// their refusals read.
@Suite struct PathTrustTests {
    /// A trust for user 1000 ("alice" where there is no such user, the name does not matter).
    let trust = PathTrust(userID: 1000)

    private func info(_ type: mode_t, mode: mode_t, uid: uid_t = 1000, gid: gid_t = 4_000_000_000) -> stat {
        var info = stat()
        info.st_mode = type | mode
        info.st_uid = uid
        info.st_gid = gid
        return info
    }

    private func fault(_ body: () throws(PathTrustError) -> Void) -> PathTrustError.Fault? {
        do {
            try body()
            return nil
        } catch {
            return error.fault
        }
    }

    @Test func filesOfRootOrTheUserWritableOnlyByTheOwnerAreTrusted() {
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFREG, mode: 0o755), at: "/p/lib.so") } == nil)
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFREG, mode: 0o644, uid: 0), at: "/p/lib.so") } == nil)
    }

    @Test func filesOfOthersOrWritableByOthersAreRefused() {
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFREG, mode: 0o755, uid: 1001), at: "/p") }
            == .foreignOwner(uid: 1001, name: GroupMembers.userName(of: 1001)))
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFREG, mode: 0o666), at: "/p") }
            == .worldWritable(mode: S_IFREG | 0o666, isDirectory: false))
        // A sticky bit on a file protects nothing.
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFREG, mode: 0o1777), at: "/p") } != nil)
        // Group-writable with a group that does not exist: refused.
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFREG, mode: 0o775), at: "/p") }
            == .groupWritable(mode: S_IFREG | 0o775, group: "gid 4000000000", verdict: .unknown))
        #expect(fault { () throws(PathTrustError) in try trust.checkFile(info(S_IFDIR, mode: 0o755), at: "/p") } == .notRegularFile)
    }

    @Test func stickyDirectoriesOfTrustedOwnersAreFineAndOthersAreNot() {
        #expect(fault { () throws(PathTrustError) in try trust.checkDirectory(info(S_IFDIR, mode: 0o1777, uid: 0), at: "/tmp") } == nil)
        #expect(fault { () throws(PathTrustError) in try trust.checkDirectory(info(S_IFDIR, mode: 0o1770), at: "/d") } == nil)
        #expect(fault { () throws(PathTrustError) in try trust.checkDirectory(info(S_IFDIR, mode: 0o1777, uid: 1001), at: "/t") }
            == .foreignOwner(uid: 1001, name: GroupMembers.userName(of: 1001)))
        #expect(fault { () throws(PathTrustError) in try trust.checkDirectory(info(S_IFDIR, mode: 0o777), at: "/d") }
            == .worldWritable(mode: S_IFDIR | 0o777, isDirectory: true))
    }

    @Test func refusalsNameThePathTheFaultAndWhatToDo() {
        let world = PathTrustError(path: "/srv/plugins", fault: .worldWritable(mode: S_IFDIR | 0o777, isDirectory: true), trustedUser: "alice")
        #expect(world.description
            == "/srv/plugins is writable by anyone (mode 0777) without the sticky bit: chmod o-w /srv/plugins, or chmod +t /srv/plugins if others must keep writing there")
        let owner = PathTrustError(path: "/p/lib.so", fault: .foreignOwner(uid: 65534, name: "nobody"), trustedUser: "alice")
        #expect(owner.description
            == "/p/lib.so is owned by nobody (uid 65534), not by root or alice, the host's user: chown alice /p/lib.so, or use a path the host's user controls")
        var group = PathTrustError(path: "/p/lib.so", fault: .groupWritable(mode: S_IFREG | 0o775, group: "staff", verdict: .others(["bob", "carol", "dan", "eve"])),
                                   trustedUser: "alice")
        group.named = "/home/alice/lib.so"
        #expect(group.description
            == "/p/lib.so is group-writable (mode 0775) and its group staff has other members (bob, carol, dan and 1 more): chmod g-w /p/lib.so (on the way to /home/alice/lib.so)")
        let acl = PathTrustError(path: "/p/lib.so", fault: .aclWriter("user bob"), trustedUser: "alice")
        #expect(acl.description == "/p/lib.so has an ACL that lets user bob write: remove that entry (setfacl -x) or the ACL (setfacl -b /p/lib.so)")
    }

    @Test func parentsGoUpToTheRoot() {
        #expect(PathTrust.parent(of: "/a/b/c") == "/a/b")
        #expect(PathTrust.parent(of: "/a") == "/")
        #expect(PathTrust.parent(of: "/") == "/")
        #expect(PathTrust.parent(of: "lib.so") == ".")
        #expect(PathTrust.parent(of: "/a/b/") == "/a")
    }

    /// The real file system: this test's own temporary directories are trusted, `/tmp` included.
    @Test func realTemporaryDirectoriesAreTrusted() throws {
        let directory = try TemporaryDirectory.make()
        let path = "\(directory)/file"
        #expect(FileManager.default.createFile(atPath: path, contents: Data([1])))
        let here = PathTrust()
        #expect(try here.checkFile(path) == FileOwnership.resolved(path))
        #expect(throws: PathTrustError.self) { try here.checkFile("\(directory)/missing") }
    }
}
