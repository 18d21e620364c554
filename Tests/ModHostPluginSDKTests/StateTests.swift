import CModHost
import Foundation
import ModHostPluginSDK
import Testing

@Suite struct StateTests {
    struct Envelope: Decodable {
        let schema: Int
        let state: Counter.State
    }

    @Test func exportWritesTheEnvelope() throws {
        let harness = PluginHarness(entry: Counter.pluginEntry())
        _ = harness.call("increment")
        _ = harness.call("increment")
        let (status, state) = harness.exportState()
        #expect(status == MH_OK)
        let envelope = try JSONDecoder().decode(Envelope.self, from: Data(state.utf8))
        #expect(envelope.schema == 2)
        #expect(envelope.state.count == 2)
        #expect(envelope.state.label == "fresh")
        #expect(state.hasPrefix(#"{"schema":2,"state":"#))
    }

    @Test func importTakesOverTheExportedState() {
        let old = PluginHarness(entry: Counter.pluginEntry())
        for _ in 0..<3 { _ = old.call("increment") }
        let exported = old.exportState().state

        let new = PluginHarness(entry: Counter.pluginEntry())
        let (status, error) = new.importState(exported, from: "1.9.0")
        #expect(status == MH_OK)
        #expect(error == "")
        #expect(new.outcome("describe") == .result(#""3 fresh from 1.9.0""#))
        #expect(new.outcome("increment") == .result("4"))
    }

    @Test func olderSchemaIsMigrated() {
        let harness = PluginHarness(entry: Counter.pluginEntry())
        let (status, error) = harness.importState(#"{"schema":1,"state":{"hits":41}}"#, from: "1.0.0")
        #expect(status == MH_OK)
        #expect(error == "")
        #expect(harness.outcome("describe") == .result(#""41 migrated from 1.0.0""#))
    }

    @Test func failedMigrationReportsWhy() {
        let harness = PluginHarness(entry: Counter.pluginEntry())
        let bare = harness.importState(#"{"hits":41}"#, from: "0.9.0")
        #expect(bare.status == MH_ERROR)
        #expect(bare.error == "no migration from schema 0")
        let shapeless = harness.importState(#"{"schema":1,"state":{"hits":"many"}}"#, from: "1.0.0")
        #expect(shapeless.status == MH_ERROR)
        #expect(shapeless.error.hasPrefix("cannot import state of schema 1 from version 1.0.0 (this version reads schema 2): "))
        #expect(shapeless.error.contains(#""hits""#))
        #expect(harness.outcome("describe") == .result(#""0 fresh from ""#))
    }

    @Test func sameSchemaWithBadStateNamesTheField() {
        let harness = PluginHarness(entry: Counter.pluginEntry())
        let (status, error) = harness.importState(#"{"schema":2,"state":{"count":1}}"#, from: "2.0.0")
        #expect(status == MH_ERROR)
        #expect(error.hasSuffix(#"missing field "label""#))
    }
}
