import Foundation

/// Builds C plugins with the system C compiler, and finds the Swift ones SwiftPM built, for tests.
public enum PluginBuilder {
    /// Copies a plugin SwiftPM built (e.g. `libHealth.so`, next to the `modhost` executable) into
    /// `directory`, as `name` (default: the same file name); returns the copy's path.
    @discardableResult
    public static func copyBuilt(_ file: String, into directory: String, name: String? = nil) throws -> String {
        let source = try HostProcess.buildDirectory().appendingPathComponent(file).path
        let output = "\(directory)/\(name ?? file)"
        try FileManager.default.copyItem(atPath: source, toPath: output)
        return output
    }

    /// The repository's `plugin-sdk/include`, found from this file's location.
    public static var includeDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("plugin-sdk/include").path
    }

    /// Compiles `source` into the shared library `output` with the flags a plugin should use
    /// (`-shared -fPIC -fvisibility=hidden`, warnings as errors). Throws with the compiler's output.
    public static func buildC(source: String, output: String, defines: [String] = [], optimize: Bool = false) throws {
        let arguments = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", optimize ? "-O2" : "-O0",
            "-shared", "-fPIC", "-fvisibility=hidden", "-I", includeDirectory] + defines + [source, "-o", output, "-lpthread"]
        let result = try ChildProcess.run("/usr/bin/env", arguments, stderr: .sameAsStdout)
        guard result.termination == .exited(0) else {
            throw HostProcessError("cc failed (\(result.termination)) for \(source) \(defines):\n\(result.out)")
        }
    }
}
