import Foundation
import ModHostTestKit
import Testing

@testable import ModHost

/// How `--disable` values are told apart and files matched.
@Suite struct DisabledModulesTests {
    @Test func idsAndFilesAreToldApart() throws {
        let directory = try TestPlugins.directory()
        let disabled = try DisabledModules(["health", "task-2", "\(directory)/libx.so", "relative.so"])
        #expect(disabled.ids == ["health", "task-2"])
        #expect(disabled.files == ["\(DisabledModules.resolve(directory))/libx.so", DisabledModules.resolve("relative.so")])
        #expect(disabled.disables(module: "health"))
        #expect(!disabled.disables(module: "token"))
        #expect(DisabledModules.resolve("relative.so") == FileManager.default.currentDirectoryPath + "/relative.so"
            || DisabledModules.resolve("relative.so").hasSuffix("/relative.so"))
    }

    @Test func aValueThatIsNeitherIsRefusedNamingIt() {
        for value in ["Health", "", "two words"] {
            #expect(throws: ConfigurationError.self) { try DisabledModules([value]) }
            do {
                _ = try DisabledModules([value])
            } catch {
                #expect(error.description.hasPrefix("--disable \(value): neither a module id"))
            }
        }
    }

    /// A file matches however its path is spelled: through a symbolic link, `..`, or before it exists.
    @Test func filesMatchByResolvedPath() throws {
        let directory = try TestPlugins.directory()
        let link = "\(try TestPlugins.directory())/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory)
        let disabled = try DisabledModules(["\(link)/libx.so"])  // does not exist yet
        #expect(FileManager.default.createFile(atPath: "\(directory)/libx.so", contents: Data()))
        #expect(disabled.disables(file: "\(directory)/libx.so"))
        #expect(disabled.disables(file: "\(directory)/../\((directory as NSString).lastPathComponent)/libx.so"))
        #expect(!disabled.disables(file: "\(directory)/liby.so"))
        #expect(disabled.listed == [DisabledModules.resolve("\(directory)/libx.so")])
    }
}
