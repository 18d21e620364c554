import Foundation
import ModHostTestKit
import Testing

/// The module kit through the real host, with the kit probe fixture (`Fixtures/KitProbe`): calls
/// held for the rules to answer at a wake-up, the wake-up timer re-armed after kill -9 and after
/// a hot swap, stored records restored by prefix, the state crossing a swap, held calls failed
/// when the module stops, and bad event data dropped with a log line.
@Suite struct KitTests {
    let start = ModuleHarness.defaultStart

    func harness(config: [String: JSON] = [:], extraArguments: [String] = []) throws -> ModuleHarness {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-probe")
        try FileManager.default.copyItem(atPath: "\(try RecipePackage.libraries())/libKitProbe.so", toPath: "\(plugins)/libKitProbe.so")
        return try ModuleHarness(plugins: plugins, config: config, extraArguments: extraArguments)
    }

    @Test func aHeldCallIsAnsweredWhenTheClockReachesIt() throws {
        let harness = try harness()
        let id = harness.host.takeID()
        try harness.host.send(raw: #"{"jsonrpc":"2.0","id":\#(id),"method":"probe.sleep","params":{"ms":5000}}"#)
        #expect(try harness.host.call("probe.status")["sleepers"] == 1)
        try harness.advance(by: 4_999)
        #expect(try harness.host.call("probe.status")["sleepers"] == 1)
        try harness.advance(by: 1)
        let answer = try harness.host.response(id: .int(Int64(id)))
        #expect(answer["result"]["wokeAtMs"].int == start + 5_000)
        #expect(try harness.host.call("probe.status")["sleepers"] == 0)
    }

    @Test func aRefusedHoldAnswersAtOnceWithTheRulesError() throws {
        let harness = try harness()
        let error = try harness.host.expectFailure("probe.sleep", ["ms": 0])
        #expect(error["code"] == -32000 && error["data"]["reason"] == "too_short" && error["data"]["askedMs"] == 0)
        #expect(try harness.host.expectFailure("probe.sleep", ["ms": -1])["code"] == -32602)
        #expect(try harness.host.call("probe.status")["sleepers"] == 0)
    }

    @Test func alarmsRingAfterKillAndRestartFromTheStore() throws {
        let harness = try harness()
        _ = try harness.host.call("probe.alarm", ["name": "soon", "atMs": .int(start + 1_000)])
        _ = try harness.host.call("probe.alarm", ["name": "later", "atMs": .int(start + 90_000)])
        _ = try harness.host.call("events.subscribe", ["topics": ["probe.rang"]])
        try harness.advance(by: 1_000)
        let rang = try harness.host.nextEvent(topic: "probe.rang")["data"]
        #expect(rang["name"] == "soon" && rang["rangAtMs"].int == start + 1_000)

        // A new process: the timer died with the old one; start re-arms it from the stored record.
        let restarted = try harness.killAndRestart(clockStart: start + 60_000)
        #expect(try restarted.host.call("probe.status")["alarms"] == ["later": .int(start + 90_000)])
        _ = try restarted.host.call("events.subscribe", ["topics": ["probe.rang"]])
        try restarted.advance(by: 30_000)
        let later = try restarted.host.nextEvent(topic: "probe.rang")["data"]
        #expect(later["name"] == "later" && later["rangAtMs"].int == start + 90_000)
        let again = try restarted.killAndRestart(clockStart: start + 100_000)
        #expect(try again.host.call("probe.status")["alarms"] == [:])
    }

    @Test func aHotSwapCarriesTheStateAndReArmsTheWakeUp() throws {
        let harness = try harness()
        _ = try harness.host.call("probe.alarm", ["name": "a", "atMs": .int(start + 10_000)])
        _ = try harness.host.call("events.publish", ["topic": "probe.poke", "data": ["count": 1]])
        let copy = "\(try TemporaryDirectory.make(prefix: "modhost-probe2"))/libKitProbe.so"
        try FileManager.default.copyItem(atPath: "\(harness.plugins)/libKitProbe.so", toPath: copy)
        _ = try harness.host.call("modules.swap", ["id": "probe", "path": .string(copy)])
        #expect(try harness.host.call("probe.status")["pokes"] == 1)
        _ = try harness.host.call("events.subscribe", ["topics": ["probe.rang"]])
        try harness.advance(by: 10_000)
        #expect(try harness.host.nextEvent(topic: "probe.rang")["data"]["name"] == "a")
        try harness.host.waitForStderr(containing: "took over the state of version \"1.0.0\"")
    }

    /// An operation from a plugin's own thread that ran before a `clock.advance` and armed its
    /// wake-up after the clock moved (an I/O result, as the token module's are) rings at its
    /// time: the wake-up is counted from the clock when the timer starts, not from the
    /// operation's time (it was due 500 ms late, past the next advance, and never came).
    @Test func aWakeUpArmedWhileTheClockMovesComesAtItsTime() throws {
        let harness = try harness()
        _ = try harness.host.call("events.subscribe", ["topics": ["probe.rang"]])
        #expect(try harness.host.call("probe.alarmWhenMoved", ["name": "io", "inMs": 1_000]) == true)
        #expect(try Poll.until { try harness.host.call("probe.moved")["reading"] == 1 })
        try harness.advance(by: 500)  // the operation read `start`, and now sees the clock move
        #expect(try Poll.until { try harness.host.call("probe.moved")["done"] == 1 })
        #expect(try harness.host.call("probe.status")["alarms"] == ["io": .int(start + 1_000)])
        try harness.advance(by: 500)
        #expect(try harness.host.call("probe.status")["alarms"] == [:], "the alarm rang within the advance that reached it")
        let rang = try harness.host.nextEvent(topic: "probe.rang", timeout: 5)["data"]
        #expect(rang["name"] == "io" && rang["rangAtMs"].int == start + 1_000)
    }

    /// The unload first gives the held call `--drain-timeout-ms` to be answered, then stops the
    /// module, which fails it.
    @Test func heldCallsFailWhenTheModuleStops() throws {
        let harness = try harness(extraArguments: ["--drain-timeout-ms", "300"])
        let id = harness.host.takeID()
        try harness.host.send(raw: #"{"jsonrpc":"2.0","id":\#(id),"method":"probe.sleep","params":{"ms":60000}}"#)
        #expect(try harness.host.call("probe.status")["sleepers"] == 1)
        _ = try harness.host.call("modules.unload", ["id": "probe"])
        let answer = try harness.host.response(id: .int(Int64(id)))
        #expect(answer["error"]["code"] == -32000 && answer["error"]["data"]["reason"] == "module_stopped")
        #expect(answer["error"]["message"].string == "module probe stopped before it answered the call")
    }

    @Test func badEventDataIsDroppedWithALogLine() throws {
        let harness = try harness()
        _ = try harness.host.call("events.publish", ["topic": "probe.poke", "data": ["count": "many"]])
        _ = try harness.host.call("events.publish", ["topic": "probe.poke", "data": ["count": 2]])
        #expect(try harness.host.call("probe.status")["pokes"] == 1)
        let line = try harness.host.waitForStderr(containing: "ignoring probe.poke event")
        #expect(line.contains("count"))
    }

    @Test func preEncodedResultsAreHandedBackAsTheyAre() throws {
        let harness = try harness()
        let id = harness.host.takeID()
        let text = #"{"b":1,"a":[1.50,"\u00e9"]}"#
        try harness.host.send(raw: JSON.object(["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "probe.raw", "params": ["json": .string(text)]]).text)
        _ = try harness.host.response(id: .int(Int64(id)))
        #expect(harness.host.stdoutLines.contains { $0.contains(#""result":\#(text)"#) })
    }

    @Test func aHandlerReadsWhoAskedAndPatternsTakeEvents() throws {
        let harness = try harness()
        #expect(try harness.host.call("probe.whoAsked") == 1)  // stdio is client 1
        _ = try harness.host.call("events.subscribe", ["topics": ["probe.pong"]])
        _ = try harness.host.call("events.publish", ["topic": "probe.ping.x", "data": ["n": 7]])
        #expect(try harness.host.nextEvent(topic: "probe.pong")["data"] == ["n": 7])
        let described = try harness.host.call("modules.describe", ["id": "probe"])
        #expect(described["subscriptions"] == ["probe.poke", "probe.ping.*"], "\(described)")
    }

    /// A held call whose caller gave up (its deadline passed): at the hot swap's stop the kit
    /// tells the engine (`released`), which forgets it; an engine that keeps it exports it, and
    /// the new instance's held calls get ids of their own, so the old one's wake-up answers
    /// nobody instead of the new caller.
    @Test(arguments: [false, true])
    func aHeldCallOfThePreviousInstanceNeverAnswersANewCall(keepReleased: Bool) throws {
        let harness = try harness(config: ["probe": ["keepReleased": .bool(keepReleased)]], extraArguments: ["--call-timeout-ms", "5000"])
        let gaveUp = try harness.host.expectFailure("probe.sleep", ["ms": 60_000])
        #expect(gaveUp["code"] == -32004)
        let copy = "\(try TemporaryDirectory.make(prefix: "modhost-probe2"))/libKitProbe.so"
        try FileManager.default.copyItem(atPath: "\(harness.plugins)/libKitProbe.so", toPath: copy)
        _ = try harness.host.call("modules.swap", ["id": "probe", "path": .string(copy)])

        let id = harness.host.takeID()
        try harness.host.send(raw: #"{"jsonrpc":"2.0","id":\#(id),"method":"probe.sleep","params":{"ms":100000}}"#)
        #expect(try harness.host.call("probe.status")["sleepers"] == (keepReleased ? 2 : 1))
        try harness.advance(by: 60_000)  // the old sleeper's time: its answer has nobody to go to
        #expect(try harness.host.call("probe.status")["sleepers"] == 1)
        try harness.advance(by: 40_000)
        #expect(try harness.host.response(id: .int(Int64(id)))["result"]["wokeAtMs"].int == start + 100_000)
    }

    /// `alarm/note/<name>` lies under the `alarm/` prefix too, where it does not read as an
    /// alarm: it is read under its own prefix, so it is no unreadable record and stays.
    @Test func aRecordReadUnderALongerPrefixIsNotDeletedAsUnreadable() throws {
        let harness = try harness()
        _ = try harness.host.call("probe.note", ["name": "x", "text": "kept"])
        let restarted = try harness.killAndRestart(clockStart: start)
        #expect(try restarted.host.call("probe.status")["notes"] == ["x": "kept"])
        let again = try restarted.killAndRestart(clockStart: start)
        #expect(try again.host.call("probe.status")["notes"] == ["x": "kept"])
        #expect(!again.host.stderrText.contains("unreadable"))
    }

    @Test func aModuleFailureThrownOutsideTheEngineKeepsItsReason() throws {
        let harness = try harness()
        let error = try harness.host.expectFailure("probe.refuse")
        #expect(error["code"] == -32000 && error["data"]["reason"] == "refused" && error["data"]["retryAfterMs"] == 5, "\(error)")
        #expect(error["message"].string == "refused on purpose")
    }
}
