import Foundation
import ModHostTestKit
import Testing

/// Owners, groups and modes for the loader and state-directory trust tests. Changing a file's
/// owner needs root: CI runs as root, and a test that needs it fails (never passes silently)
/// when it is not.
enum FileOwnership {
    /// Fails the test, saying why, unless it runs as root.
    static func requireRoot(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(getuid() == 0, "this test changes file owners and groups: run it as root (CI does)", sourceLocation: sourceLocation)
    }

    /// The user `nobody` and its primary group (`nogroup` on Debian), which has a member other
    /// than root: `nobody` itself.
    static var nobody: (uid: uid_t, gid: gid_t) {
        get throws {
            guard let entry = getpwnam("nobody") else { throw HostProcessError("no user nobody on this machine") }
            return (entry.pointee.pw_uid, entry.pointee.pw_gid)
        }
    }

    static func groupName(_ gid: gid_t) -> String {
        getgrgid(gid).map { String(cString: $0.pointee.gr_name) } ?? "gid \(gid)"
    }

    static func chown(_ path: String, uid: uid_t? = nil, gid: gid_t? = nil) throws {
        guard lchown(path, uid ?? UInt32.max, gid ?? UInt32.max) == 0 else {
            throw HostProcessError("chown \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func chmod(_ path: String, _ mode: mode_t) throws {
        guard Glibc.chmod(path, mode) == 0 else { throw HostProcessError("chmod \(path): \(String(cString: strerror(errno)))") }
    }

    static func mkdir(_ path: String, _ mode: mode_t) throws -> String {
        guard Glibc.mkdir(path, 0o700) == 0 else { throw HostProcessError("mkdir \(path): \(String(cString: strerror(errno)))") }
        try chmod(path, mode)
        return path
    }

    /// Gives `path` a POSIX access ACL that lets user `uid` read and write (`setfacl -m
    /// u:<uid>:rw`, written as the xattr with Python, since the acl tools may be missing): its
    /// group mode bits then show the ACL's mask, rw.
    static func allowWrite(_ path: String, uid: uid_t) throws {
        let script = """
            import os, struct, sys
            path, uid = sys.argv[1], int(sys.argv[2])
            mode = os.lstat(path).st_mode
            x = 1 if mode & 0o100 else 0
            entries = [(0x01, 6 | x, 0xFFFFFFFF), (0x02, 6, uid), (0x04, 4 | x, 0xFFFFFFFF), (0x10, 6 | x, 0xFFFFFFFF), (0x20, 4 | x, 0xFFFFFFFF)]
            os.setxattr(path, "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries))
            """
        try run("/usr/bin/env", ["python3", "-c", script, path, String(uid)])
    }

    static func symlink(_ target: String, at path: String) throws {
        guard Glibc.symlink(target, path) == 0 else { throw HostProcessError("symlink \(path): \(String(cString: strerror(errno)))") }
    }

    /// `path` with symbolic links, `.`, `..` and repeated slashes resolved: how the host names it.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    /// A group made for one test with `groupadd` (members as given), removed by `delete`.
    struct TemporaryGroup {
        let name: String
        let gid: gid_t

        init(members: [String]) throws {
            name = "mhtest\(UInt32.random(in: 100_000...999_999))"
            var arguments = [name]
            if !members.isEmpty { arguments = ["-U", members.joined(separator: ",")] + arguments }
            try FileOwnership.run("/usr/sbin/groupadd", arguments)
            guard let entry = getgrnam(name) else { throw HostProcessError("groupadd made no group \(name)") }
            gid = entry.pointee.gr_gid
        }

        func delete() {
            try? FileOwnership.run("/usr/sbin/groupdel", [name])
        }
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let result = try ChildProcess.run(executable, arguments, stdin: .inherit, stderr: .sameAsStdout)
        guard result.status == 0 else {
            throw HostProcessError("\(executable) \(arguments) failed (\(result.termination)): \(result.out)")
        }
    }
}

/// What the kernel says about a running host.
enum HostProcStatus {
    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    static func kibibytes(_ field: String, of host: HostProcess) throws -> Int {
        guard let memory = ProcFS.memory(of: host.process.processIdentifier) else {
            throw HostProcessError("cannot read /proc/<pid>/status of the host")
        }
        switch field {
        case "VmRSS": return memory.resident / 1024
        case "VmHWM": return memory.peak / 1024
        default: throw HostProcessError("no \(field) in /proc/<pid>/status")
        }
    }

    /// The file paths mapped into the host (`/proc/<pid>/maps`), e.g. its plugins' private copies.
    static func mappedFiles(of host: HostProcess) throws -> Set<String> {
        ProcFS.mappedFiles(of: host.process.processIdentifier)
    }
}
