import Foundation
import ModHostTestKit
import Testing

/// Hot swap end to end (issue 3, items 1 and 3): `modules.swap` carries the state to the new
/// build, waits for calls in flight and holds new ones, `modules.rollback` goes back, and both
/// are published. Failures: SwapFailureTests; retired images: RetiredImageTests.
///
/// The module is `Fixtures/swappable.c` (`counter`), built at test time as version 1 and 2 and
/// as builds that fail on purpose. Builds to swap to live outside the plugin directory, so that
/// only version 1 is loaded at start.
@Suite struct SwapTests {
    // MARK: Swapping

    @Test func swapCarriesTheStateToTheNewVersion() throws {
        let bench = try CounterBench.start()
        #expect(try bench.counter("add", [5]) == 5)
        #expect(try bench.counter("add", [7]) == 12)
        let swapped = try bench.swap(to: bench.build(version: 2))
        #expect(swapped["id"] == "counter")
        #expect(swapped["from"] == "1.0.0")
        #expect(swapped["to"] == "2.0.0")
        #expect(swapped["generation"] == 2)
        // Version 1 exports {"total":N}: exactly those bytes moved.
        #expect(swapped["stateBytes"] == .int(Int64(#"{"total":12}"#.utf8.count)))
        #expect((swapped["pauseMicros"].int ?? 0) > 0, "\(swapped)")

        // Calls after the swap reach version 2, which migrated the state.
        #expect(try bench.counter("version") == "2.0.0")
        #expect(try bench.counter("total") == 12)
        #expect(try bench.counter("calls") == 0, "version 1's state has no calls: the migration starts them at 0")
        #expect(try bench.counter("add", [3]) == 15)
        #expect(try bench.counter("calls") == 1)
        try bench.expectServing(version: "2.0.0", generation: 2, total: 15)

        // Version 2 to version 2 keeps calls too: {"schema":2,"total":15,"calls":1}.
        let again = try bench.swap(to: bench.build(version: 2, name: "libcounter-v2b.so"))
        #expect(again["from"] == "2.0.0")
        #expect(again["generation"] == 3)
        #expect(again["stateBytes"] == .int(Int64(#"{"schema":2,"total":15,"calls":1}"#.utf8.count)))
        #expect(try bench.counter("calls") == 1)
        #expect(try bench.counter("total") == 15)
        #expect(try bench.host.shutdown() == 0)
    }

    /// A call pending when the swap starts finishes on the old instance before the swap commits
    /// (the swap waits for it), and calls arriving meanwhile are held and then run, in order, on
    /// the new instance.
    ///
    /// `release` cannot complete the held call here: it would itself be held by the swap. The
    /// held call is the timed form, `hold [ms]`, which a host timer of the old instance
    /// completes while the swap drains (timers and replies keep running; only calls are held).
    @Test func pendingCallFinishesBeforeTheSwapCommitsAndCallsArrivingMeanwhileRunOnTheNewVersionInOrder() throws {
        let bench = try CounterBench.start()
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [10]) == 10)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"held","method":"counter.hold","params":[5000]}"#)
        // Calls of the module run in order: once this is answered, `hold` is pending in the plugin.
        #expect(try bench.counter("total") == 10)
        let sent = Date()
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#)
        // Once the swap holds calls (it waits for `held`, due 5 s after it was sent), send more.
        try bench.host.waitUntilHolding("counter")
        try bench.host.send(raw: [
            #"{"jsonrpc":"2.0","id":"q1","method":"counter.add","params":[1]}"#,
            #"{"jsonrpc":"2.0","id":"q2","method":"counter.add","params":[2]}"#,
            #"{"jsonrpc":"2.0","id":"q3","method":"counter.version"}"#,
            #"{"jsonrpc":"2.0","id":"q4","method":"counter.add","params":[3]}"#,
            #"{"jsonrpc":"2.0","id":"q5","method":"counter.add","params":[4]}"#,
        ].joined(separator: "\n"))

        // The pending call completed on version 1 with the total before the queued calls.
        #expect(try bench.host.response(id: "held", timeout: 30)["result"] == 10)
        let swap = try bench.host.response(id: "swap", timeout: 30)
        #expect(swap["error"] == .null, "\(swap)")
        #expect(swap["result"]["to"] == "2.0.0")
        #expect(swap["result"]["stateBytes"] == .int(Int64(#"{"total":10}"#.utf8.count)))
        // The swap waited for the held call: calls were held for part of its 5 s at least.
        #expect((swap["result"]["pauseMicros"].int ?? 0) >= 1_000_000, "\(swap)")
        #expect(Date().timeIntervalSince(sent) >= 1.0)

        // The calls held during the swap ran in order on version 2.
        #expect(try bench.host.response(id: "q1")["result"] == 11)
        #expect(try bench.host.response(id: "q2")["result"] == 13)
        #expect(try bench.host.response(id: "q3")["result"] == "2.0.0")
        #expect(try bench.host.response(id: "q4")["result"] == 16)
        #expect(try bench.host.response(id: "q5")["result"] == 20)
        #expect(try bench.counter("calls") == 4, "the four adds ran on version 2")
        // …and none of them was answered before the held call completed.
        let held = try #require(bench.host.responseLine(id: "held"))
        for id in ["q1", "q2", "q3", "q4", "q5"] {
            let line = try #require(bench.host.responseLine(id: id))
            #expect(line > held, "\(id) was answered before the pending call finished: it was not held by the swap")
        }
    }

    /// Calls written right behind the swap, in the same chunk, keep their order and are all
    /// answered, whichever instance they reach.
    @Test func callsPipelinedBehindASwapKeepTheirOrder() throws {
        let bench = try CounterBench.start()
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [1]) == 1)
        var lines = [#"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#]
        for n in 1...20 { lines.append(#"{"jsonrpc":"2.0","id":"a\#(n)","method":"counter.add","params":[\#(n)]}"#) }
        try bench.host.send(raw: lines.joined(separator: "\n"))
        #expect(try bench.host.response(id: "swap")["result"]["to"] == "2.0.0")
        var total: Int64 = 1
        for n in 1...20 {
            total += Int64(n)
            let answer = try bench.host.response(id: .string("a\(n)"))
            #expect(answer["result"] == .int(total), "a\(n): \(answer)")
        }
        #expect(try bench.counter("version") == "2.0.0")
        #expect(try bench.counter("total") == .int(total))
    }

    // MARK: Rollback

    /// The generation a swap replaced stays resident; rollback swaps back to it, carrying the
    /// state back (including what changed on the newer version) and discarding the newer one.
    @Test func rollbackReturnsToThePreviousGenerationWithTheState() throws {
        let bench = try CounterBench.start()
        #expect(try bench.counter("add", [5]) == 5)
        try bench.swap(to: bench.build(version: 2))
        #expect(try bench.counter("add", [7]) == 12)
        #expect(try bench.counter("calls") == 1)

        let back = try bench.rollback()
        #expect(back["id"] == "counter")
        #expect(back["from"] == "2.0.0")
        #expect(back["to"] == "1.0.0")
        #expect(back["generation"] == 1, "rollback returns to the resident generation, not a new one: \(back)")
        #expect(back["stateBytes"] == .int(Int64(#"{"schema":2,"total":12,"calls":1}"#.utf8.count)))
        #expect((back["pauseMicros"].int ?? 0) > 0)
        try bench.host.waitForStderr(containing: "destroyed counter 2.0.0 (ok)")
        try bench.expectServing(version: "1.0.0", generation: 1, total: 12)
        #expect(try bench.counter("add", [1]) == 13)

        // Only one step back is kept.
        let again = try bench.host.expectFailure("modules.rollback", ["id": "counter"])
        #expect(again["code"] == -32005, "\(again)")
        try bench.expectServing(version: "1.0.0", generation: 1, total: 13)

        // Forward again: a new generation.
        let forward = try bench.swap(to: bench.build(version: 2, name: "libcounter-v2b.so"))
        #expect(forward["generation"] == 3)
        #expect(try bench.counter("total") == 13)
        #expect(try bench.host.shutdown() == 0)
    }

    /// A rollback that fails (the resident generation refuses the state) leaves the current
    /// version serving with its state.
    @Test func failedRollbackLeavesTheCurrentVersionServing() throws {
        // A version 1 whose import_state fails loads fine (import is only called by a swap).
        let bench = try CounterBench.start(v1Defines: ["-DSWAP_FAIL_IMPORT"])
        try bench.host.call("events.subscribe", ["topics": ["modules.swap_failed"]])
        #expect(try bench.counter("add", [5]) == 5)
        try bench.swap(to: bench.build(version: 2))
        #expect(try bench.counter("add", [6]) == 11)

        let error = try bench.host.expectFailure("modules.rollback", ["id": "counter"])
        #expect(error["code"] == -32002, "\(error)")
        #expect((error["data"]["reason"].string ?? "").contains("import refused on purpose"), "\(error)")
        #expect((try bench.host.nextEvent(topic: "modules.swap_failed")["data"]["id"]) == "counter")
        try bench.expectServing(version: "2.0.0", generation: 2, total: 11)
        #expect(try bench.counter("calls") == 1)
        #expect(try bench.counter("add", [1]) == 12)
        // A swap forward still works.
        #expect(try bench.swap(to: bench.build(version: 2, name: "libcounter-v2b.so"))["from"] == "2.0.0")
        #expect(try bench.counter("total") == 12)
    }

    @Test func rollbackWithNothingToRollBackIsRefused() throws {
        let bench = try CounterBench.start()
        #expect(try bench.counter("add", [3]) == 3)
        let error = try bench.host.expectFailure("modules.rollback", ["id": "counter"])
        #expect(error["code"] == -32005, "\(error)")
        try bench.expectServing(version: "1.0.0", generation: 1, total: 3)
        #expect(try bench.host.expectFailure("modules.rollback", ["id": "nosuch"])["code"] == -32602)
        #expect(try bench.host.expectFailure("modules.swap", ["id": "nosuch", "path": .string(bench.build(version: 2))])["code"] == -32602)
    }

    // MARK: Events

    @Test func swapsAndFailedSwapsArePublished() throws {
        let bench = try CounterBench.start()
        try bench.host.call("events.subscribe", ["topics": ["modules.swapped", "modules.swap_failed"]])
        #expect(try bench.counter("add", [2]) == 2)
        let v2 = try bench.build(version: 2)
        let (swapped, result) = try bench.host.callPublishing("modules.swapped", "modules.swap", ["id": "counter", "path": .string(v2)])
        #expect(swapped["topic"] == "modules.swapped")
        #expect(swapped["data"] == result, "the event should carry the swap's result")

        let failing = try bench.build(version: 2, defines: ["-DSWAP_FAIL_IMPORT"], name: "libcounter-fail-import.so")
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"bad","method":"modules.swap","params":{"id":"counter","path":"\#(failing)"}}"#)
        let failed = try bench.host.nextEvent(topic: "modules.swap_failed")
        #expect(failed["data"]["id"] == "counter")
        #expect(failed["data"]["file"] == .string(failing))
        #expect((failed["data"]["reason"].string ?? "").contains("import refused on purpose"), "\(failed)")
        #expect(try bench.host.response(id: "bad")["error"]["code"] == -32002)

        let (rolledBack, back) = try bench.host.callPublishing("modules.swapped", "modules.rollback", ["id": "counter"])
        #expect(rolledBack["data"] == back)
        #expect(rolledBack["data"]["from"] == "2.0.0")
        #expect(rolledBack["data"]["to"] == "1.0.0")
    }

}
