import ModuleSupport
import RoutingCore
import Testing

/// RouteCodex's `tests/servertool/routing-instructions.spec.ts` at 6a3840fb, case by case, as our
/// own tests of MODULES.md's grammar (where they differ, MODULES.md wins: see the README).
@Suite struct InstructionTests {
    let resolver = Resolver(pools: [try! Pool(PoolDefinition(pool: "main", targets: [
        PoolTarget(target: "openai.primary.gpt-4"), PoolTarget(target: "openai.backup.gpt-4"),
        PoolTarget(target: "glm.k1.glm-4.7"), PoolTarget(target: "antigravity.ag1.claude-sonnet-4-5"),
    ]), field: "p")])

    func applied(_ text: String, to state: SessionState = SessionState()) throws -> SessionState {
        var state = state
        for marker in InstructionParser.parse(text).markers { try state.apply(marker.outcome.get(), resolver: resolver) }
        return state
    }

    @Test func splitsCommaSeparatedAllowInstructions() throws {
        let markers = InstructionParser.parse("<**!glm,openai**>").markers
        #expect(markers.count == 1)
        #expect(try markers[0].outcome.get() == .allow(["glm", "openai"]))
    }

    @Test func allowInstructionsReplaceThePreviousAllowList() throws {
        var start = SessionState()
        start.allowedProviders = ["anthropic"]
        #expect(try applied("<**!glm,openai**>", to: start).allowedProviders == ["glm", "openai"])
    }

    @Test func stickyProviderModelKeepsTheModelWithoutAKey() throws {
        let markers = InstructionParser.parse("<**!antigravity.claude-sonnet-4-5**>").markers
        #expect(try markers[0].outcome.get() == .sticky(Path(provider: "antigravity", rest: "claude-sonnet-4-5")))
        #expect(try resolver.resolve(Path(provider: "antigravity", rest: "claude-sonnet-4-5")) == .model(provider: "antigravity", model: "claude-sonnet-4-5"))
        #expect(try applied("<**!antigravity.claude-sonnet-4-5**>").stickyTarget == "antigravity.claude-sonnet-4-5")
    }

    @Test func disableInstructionsReplaceThePreviousDisables() throws {
        var start = SessionState()
        start.disabledProviders = ["anthropic"]
        start.disabledKeys = ["openai.primary"]
        let next = try applied("<**#glm,openai.2**>", to: start)
        #expect(next.disabledProviders == ["glm"])
        // upstream keeps the index 2; here provider.N is resolved to the N-th key alias.
        #expect(next.disabledKeys == ["openai.backup"])
    }

    @Test func disableCanTargetAProviderModel() throws {
        #expect(try applied("<**#glm.gpt-4**>").disabledModels == ["glm.gpt-4"])
    }

    @Test func aBareProviderIsAnAllowList() throws {
        var start = SessionState()
        start.allowedProviders = ["openai", "glm"]
        #expect(try InstructionParser.parse("<**antigravity**>").markers[0].outcome.get() == .allow(["antigravity"]))
        #expect(try applied("<**antigravity**>", to: start).allowedProviders == ["antigravity"])
    }

    @Test func enableRemovesAProviderModelBan() throws {
        var start = SessionState()
        start.disabledModels = ["glm.gpt-4", "glm.glm-4.7"]
        #expect(try applied("<**@glm.gpt-4**>", to: start).disabledModels == ["glm.glm-4.7"])
    }

    @Test func stopMessageDefaultsToOneRepeat() throws {
        #expect(try InstructionParser.parse("<**stopMessage:\"继续\"**>").markers[0].outcome.get() == .stopMessage(text: "继续", max: 1))
    }

    @Test func stopMessageWithAnExplicitRepeat() throws {
        #expect(try InstructionParser.parse("<**stopMessage:\"继续\",3**>").markers[0].outcome.get() == .stopMessage(text: "继续", max: 3))
    }

    @Test func stopMessageStateRoundTripsThroughItsRecord() throws {
        let state = try applied("<**stopMessage:\"继续\",2**>")
        #expect(state.stopMessage == StopMessage(text: "继续", max: 2, used: 0))
        let restored = try JSONTestCoding.roundTrip(state)
        #expect(restored.stopMessage == StopMessage(text: "继续", max: 2, used: 0))
    }

    // Beyond upstream's file: the rest of MODULES.md's grammar.

    @Test func keyOrModelIsResolvedAgainstThePools() throws {
        #expect(try applied("<**openai.backup.gpt-4**>").forcedTarget == "openai.backup.gpt-4")
        #expect(try applied("<**openai.gpt-4**>").forcedTarget == "openai.gpt-4")
        #expect(try applied("<**!openai.2**>").stickyTarget == "openai.backup")
        #expect(try applied("<**#openai.primary**>").disabledKeys == ["openai.primary"])
        #expect(try applied("<**#glm.glm-4.7**>").disabledModels == ["glm.glm-4.7"], "a model with a dot")
    }

    @Test func malformedAndUnknownMarkersAreReportedWithTheirReason() {
        let markers = InstructionParser.parse("a <****> b <**stopMessage:继续**> <**stopMessage:\"x\",0**> <**#glm,**> <**hello world**> <**!a.m,b**> <**unclosed").markers
        let reasons = markers.map { (try? $0.outcome.get()) == nil }
        #expect(reasons == [true, true, true, true, true, true])
        #expect(throws: MarkerError.self) { try resolver.resolve(Path(provider: "openai", rest: "3")) }
        #expect(InstructionParser.parse("x <**unclosed").text == "x <**unclosed")
    }

    @Test func clearDropsForceStickyAllowAndDisableButNotTheStopMessage() throws {
        var start = try applied("<**!glm**><**#openai**><**!glm.glm-4.7**><**openai.gpt-4**><**stopMessage:\"go\"**>")
        start = try applied("<**clear**>", to: start)
        #expect(start.forcedTarget == nil && start.stickyTarget == nil && start.allowedProviders.isEmpty && start.disabledProviders.isEmpty)
        #expect(start.stopMessage == StopMessage(text: "go", max: 1))
    }
}

import Foundation

enum JSONTestCoding {
    static func roundTrip<T: Codable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }
}
