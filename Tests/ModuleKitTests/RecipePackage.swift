import Foundation
import ModHostTestKit

/// A copy of this repository with the module recipe of `Plugins/README.md` applied to it, built
/// with `swift build`: the blocks marked `<!-- recipe: <path> -->` are written to their paths
/// (the `Package.swift` one added to `modules`), beside the kit probe fixture
/// (`Fixtures/KitProbe`, a module exercising held calls, wake-ups, restore and swap state).
/// Built once per test run (about 25 s on 2 cores: only the two libraries' closure, the SDK
/// family, is compiled); a recipe that no longer builds fails every test here with the
/// compiler's output.
enum RecipePackage {
    /// The build directory holding `libHello.so` and `libKitProbe.so`.
    static let built: Result<String, HostProcessError> = Result { try build() }.mapError {
        $0 as? HostProcessError ?? HostProcessError("\($0)")
    }

    static func libraries() throws -> String { try built.get() }

    /// This repository's root, from this file's path.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The recipe's code blocks: path → text, in the order of the README.
    static func recipeBlocks() throws -> [(path: String, text: String)] {
        let readme = try String(contentsOf: repository.appendingPathComponent("Plugins/README.md"), encoding: .utf8)
        let marker = /<!-- recipe: (\S+) -->\s*\n( *)```swift\n((?:.|\n)*?)\n *```/
        let blocks = readme.matches(of: marker).map { match in
            let indent = match.output.2.count
            let lines = match.output.3.split(separator: "\n", omittingEmptySubsequences: false).map { $0.dropFirst(min(indent, $0.prefix { $0 == " " }.count)) }
            return (path: String(match.output.1), text: lines.joined(separator: "\n") + "\n")
        }
        guard !blocks.isEmpty else { throw HostProcessError("Plugins/README.md has no `<!-- recipe: path -->` blocks") }
        return blocks
    }

    private static func build() throws -> String {
        let root = try TemporaryDirectory.make(prefix: "modhost-recipe")
        let files = FileManager.default
        for entry in ["Package.swift", "Package.resolved", "Sources", "Plugins", "plugin-sdk", "Tests"] {
            let source = repository.appendingPathComponent(entry).path
            guard files.fileExists(atPath: source) else { continue }
            try files.copyItem(atPath: source, toPath: "\(root)/\(entry)")
        }
        var manifest = try String(contentsOfFile: "\(root)/Package.swift", encoding: .utf8)
        var moduleLines = "    Module(name: \"KitProbe\"),\n"
        for block in try recipeBlocks() {
            if block.path == "Package.swift" {
                moduleLines += block.text
            } else {
                try write(block.text, to: "\(root)/\(block.path)")
            }
        }
        guard let list = manifest.range(of: "let modules = [\n") else { throw HostProcessError("Package.swift has no `let modules = [` line") }
        manifest.insert(contentsOf: moduleLines, at: list.upperBound)
        try write(manifest, to: "\(root)/Package.swift")

        let probe = repository.appendingPathComponent("Tests/ModuleKitTests/Fixtures/KitProbe").path
        try files.createDirectory(atPath: "\(root)/Plugins/KitProbe", withIntermediateDirectories: true)
        for part in ["Core", "Plugin"] { try files.copyItem(atPath: "\(probe)/\(part)", toPath: "\(root)/Plugins/KitProbe/\(part)") }
        for target in ["KitProbeCoreTests", "KitProbeTests"] {  // `Module` declares them; the probe's tests are here
            try write("// The kit probe is tested from Tests/ModuleKitTests.\n", to: "\(root)/Tests/\(target)/None.swift")
        }

        for arguments in [["--product", "Hello"], ["--product", "KitProbe"], ["--target", "HelloCoreTests"], ["--target", "HelloTests"]] {
            try swiftBuild(arguments, in: root)
        }
        return "\(root)/.build/debug"
    }

    private static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private static func swiftBuild(_ arguments: [String], in directory: String) throws {
        let log = "\(directory)/build.log"
        let build = try ChildProcess.run("/usr/bin/env", ["swift", "build"] + arguments, directory: directory,
                                         stdin: .inherit, stdout: .file(log), stderr: .sameAsStdout)
        guard build.status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw HostProcessError("`swift build \(arguments.joined(separator: " "))` of the recipe failed:\n\(text.suffix(4_000))")
        }
    }
}
