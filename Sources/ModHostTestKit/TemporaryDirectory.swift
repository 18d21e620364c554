import Foundation

public enum TemporaryDirectory {
    /// Makes a new private (0700) directory under the system temporary directory.
    public static func make(prefix: String = "modhost") throws -> String {
        var template = Array("\(NSTemporaryDirectory())/\(prefix)-XXXXXX".utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HostProcessError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: result)
    }
}
