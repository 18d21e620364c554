import Foundation

public enum TemporaryDirectory {
    /// Makes a new private (0700) directory in the test process's own temporary directory.
    public static func make(prefix: String = "modhost") throws -> String {
        try make(in: root, prefix: prefix)
    }

    /// Where every directory `make` makes goes: one private directory per test process, under
    /// the system temporary directory, removed when the process exits. (Left behind, a full run's
    /// plugin copies, stores and logs came to gigabytes.) The system temporary directory itself
    /// if it cannot be made.
    static let root: String = {
        guard let path = try? make(in: NSTemporaryDirectory(), prefix: "modhost-tests") else { return NSTemporaryDirectory() }
        atexit { try? FileManager.default.removeItem(atPath: TemporaryDirectory.root) }
        return path
    }()

    private static func make(in directory: String, prefix: String) throws -> String {
        var template = Array("\(directory)/\(prefix)-XXXXXX".utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HostProcessError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: result)
    }
}
