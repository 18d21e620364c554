import Foundation
import ModHostTestKit
import Testing

/// The recipe of `Plugins/README.md`, built from its text (`RecipePackage`): the new module
/// `hello` loads into the real host and answers, its state survives kill -9, bad params get the
/// kit's error, events reach its handler, and unknown config keys are warned about.
@Suite struct RecipeTests {
    func harness(config: [String: JSON] = ["hello": ["greeting": "Hi"]]) throws -> ModuleHarness {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-hello")
        try FileManager.default.copyItem(atPath: "\(try RecipePackage.libraries())/libHello.so", toPath: "\(plugins)/libHello.so")
        return try ModuleHarness(plugins: plugins, config: config)
    }

    @Test func theRecipeHasEveryPartOfAModule() throws {
        let paths = try RecipePackage.recipeBlocks().map(\.path)
        #expect(paths == ["Package.swift", "Plugins/Hello/Core/HelloEngine.swift", "Tests/HelloCoreTests/HelloEngineTests.swift",
                          "Plugins/Hello/Plugin/Hello.swift", "Tests/HelloTests/HelloTests.swift"])
    }

    @Test func theNewModuleLoadsAndAnswers() throws {
        let harness = try harness()
        _ = try harness.host.call("events.subscribe", ["topics": ["hello.greeted"]])
        let modules = try harness.host.call("modules.list")["modules"]
        #expect(modules[0]["id"] == "hello" && modules[0]["version"] == "1.0.0")
        let first = try harness.host.callPublishing("hello.greeted", "hello.greet", ["name": "Ann"])
        #expect(first.result["text"] == "Hi, Ann!" && first.result["count"] == 1)
        #expect(first.result["atMs"].int == ModuleHarness.defaultStart)
        #expect(first.event["data"] == first.result)
        #expect(try harness.host.call("hello.greet", ["Ann"])["count"] == 2)
    }

    @Test func badParamsGetTheRulesError() throws {
        let harness = try harness()
        let error = try harness.host.expectFailure("hello.greet", ["name": ""])
        #expect(error["code"] == -32602)
        #expect(error["message"].string == "name must be 1 to 200 bytes long")
        #expect(try harness.host.expectFailure("hello.greet", ["nom": "Ann"])["code"] == -32602)
    }

    @Test func countsSurviveKillAndAForgetEventResetsOne() throws {
        let harness = try harness()
        _ = try harness.host.call("hello.greet", ["Ann"])
        _ = try harness.host.call("hello.greet", ["Ann"])
        _ = try harness.host.call("hello.greet", ["Bob"])
        let restarted = try harness.killAndRestart(clockStart: ModuleHarness.defaultStart + 60_000)
        #expect(try restarted.host.call("hello.greet", ["Ann"])["count"] == 3)
        _ = try restarted.host.call("events.publish", ["topic": "hello.forget", "data": ["name": "Ann"]])
        #expect(try restarted.host.call("hello.greet", ["Ann"])["count"] == 1)
        let again = try restarted.killAndRestart(clockStart: nil)
        #expect(try again.host.call("hello.greet", ["Ann"])["count"] == 2)
        #expect(try again.host.call("hello.greet", ["Bob"])["count"] == 2)
    }

    @Test func unknownConfigKeysAreWarnedAbout() throws {
        let harness = try harness(config: ["hello": ["greeting": "Yo", "greting": "typo"]])
        #expect(try harness.host.call("hello.greet", ["Ann"])["text"] == "Yo, Ann!")
        let line = try harness.host.waitForStderr(containing: "ignoring unknown config keys")
        #expect(line.contains("greting"))
    }
}
