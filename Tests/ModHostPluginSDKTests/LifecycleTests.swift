import CModHost
import ModHostPluginSDK
import Testing

@Suite struct LifecycleTests {
    @Test func initGetsTheConfig() {
        let harness = PluginHarness(entry: Picky.pluginEntry(), config: #"{"port": 8080}"#)
        #expect(harness.instance != nil)
        #expect(harness.initError == "")
    }

    @Test func initErrorReachesTheSink() {
        let harness = PluginHarness(entry: Picky.pluginEntry(), config: #"{"port": -1}"#)
        #expect(harness.instance == nil)
        #expect(harness.initError == "port must be positive, got -1")
    }

    @Test func badConfigNamesTheField() {
        let missing = PluginHarness(entry: Picky.pluginEntry(), config: "{}")
        #expect(missing.instance == nil)
        #expect(missing.initError == #"invalid config: missing field "port""#)
        let mistyped = PluginHarness(entry: Picky.pluginEntry(), config: #"{"port": "80"}"#)
        #expect(mistyped.instance == nil)
        #expect(mistyped.initError.hasPrefix(#"invalid config: "port": "#))
    }

    @Test func unknownModuleIDIsRefused() {
        _ = Arithmetic.pluginEntry()
        let harness = PluginHarness(entry: Arithmetic.pluginEntry(), moduleID: "nobody")
        #expect(harness.instance == nil)
        #expect(harness.initError.contains(#"no Swift plugin type with id "nobody""#))
    }

    @Test func startErrorReachesTheSink() {
        let harness = PluginHarness(entry: Picky.pluginEntry(), config: #"{"port": 1}"#)
        let (status, error) = harness.start()
        #expect(status == MH_ERROR)
        #expect(error == "port 1 is reserved")
    }

    @Test func startAndStopReachThePlugin() {
        let harness = PluginHarness(entry: Arithmetic.pluginEntry())
        #expect(harness.outcome("started") == .result("false"))
        #expect(harness.start().status == MH_OK)
        #expect(harness.outcome("started") == .result("true"))
        harness.stop()
        #expect(harness.outcome("started") == .result("false"))
    }

    @Test func eventsReachOnEvent() {
        let harness = PluginHarness(entry: Arithmetic.pluginEntry())
        harness.event("tick.second", #"{"n":1}"#)
        harness.event("alarm", "null")
        #expect(harness.outcome("events") == .result(#"["tick.second {\"n\":1}","alarm null"]"#))
    }
}
