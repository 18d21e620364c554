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
        let move = "move the plugin to a directory only you can write, such as ~/.local/lib/modhost"
        let world = PathTrustError(path: "/srv/plugins", fault: .worldWritable(mode: S_IFDIR | 0o777, isDirectory: true), trustedUser: "alice",
                                   ownedByUser: true)
        #expect(world.description
            == "/srv/plugins is writable by anyone (mode 0777) without the sticky bit: chmod o-w /srv/plugins, or chmod +t /srv/plugins if others must keep writing there; or \(move)")
        let owner = PathTrustError(path: "/p/lib.so", fault: .foreignOwner(uid: 65534, name: "nobody"), trustedUser: "alice")
        #expect(owner.description == "/p/lib.so is owned by nobody (uid 65534), not by root or alice, the host's user: \(move)")
        var group = PathTrustError(path: "/p/lib.so", fault: .groupWritable(mode: S_IFREG | 0o775, group: "staff", verdict: .others(["bob", "carol", "dan", "eve"])),
                                   trustedUser: "alice", ownedByUser: true)
        group.named = "/home/alice/lib.so"
        #expect(group.description
            == "/p/lib.so is group-writable (mode 0775) and its group staff has other members (bob, carol, dan and 1 more): chmod g-w /p/lib.so; or \(move) (on the way to /home/alice/lib.so)")
        let acl = PathTrustError(path: "/p/lib.so", fault: .aclWriter("user bob"), trustedUser: "alice", ownedByUser: true)
        #expect(acl.description == "/p/lib.so has an ACL that lets user bob write: remove that entry (setfacl -x) or the ACL (setfacl -b /p/lib.so); or \(move)")
    }

    /// A mode change is advised only for a path the user owns that is not a shared system
    /// directory: never `chmod o-w /tmp` (which would lock every other user out of it), never a
    /// change to another user's directory.
    @Test func aModeChangeIsAdvisedOnlyForTheUsersOwnPaths() {
        let move = "move the plugin to a directory only you can write, such as ~/.local/lib/modhost"
        for (path, owned) in [("/tmp", true), ("/var/tmp", true), ("/srv", true), ("/", true), ("/srv/plugins", false)] {
            let error = PathTrustError(path: path, fault: .worldWritable(mode: S_IFDIR | 0o777, isDirectory: true), trustedUser: "root",
                                       ownedByUser: owned)
            #expect(error.description == "\(path) is writable by anyone (mode 0777) without the sticky bit: \(move)")
            let group = PathTrustError(path: path, fault: .groupWritable(mode: S_IFDIR | 0o775, group: "staff", verdict: .others(["bob"])),
                                       trustedUser: "root", ownedByUser: owned)
            #expect(!group.description.contains("chmod"), "\(group)")
        }
        var state = PathTrustError(path: "/var/tmp", fault: .groupWritableStrict(mode: S_IFDIR | 0o770), trustedUser: "root", ownedByUser: true)
        state.purpose = .stateDirectory
        #expect(state.description == "/var/tmp is group-writable (mode 0770): use a state directory only you can write (--state-dir), such as ~/.local/state/modhost")
    }

    /// The refusal knows whether the user owns the path at fault from the file system.
    @Test func ownershipOfThePathAtFaultIsRead() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-advice")
        #expect(chmod(directory, 0o777) == 0)
        let mine = PathTrust(userID: geteuid())
        do {
            _ = try mine.checkDirectory(directory)
            Issue.record("a 0777 directory must be refused")
        } catch {
            #expect(error.ownedByUser && error.description.contains("chmod o-w \(PathTrust.realPath(directory) ?? directory)"), "\(error)")
        }
        let other = PathTrust(userID: geteuid() &+ 4242)
        do {
            _ = try other.checkDirectory(directory)
            Issue.record("a directory of another user must be refused")
        } catch {
            #expect(!error.ownedByUser && !error.description.contains("chmod") && !error.description.contains("chown"), "\(error)")
        }
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
