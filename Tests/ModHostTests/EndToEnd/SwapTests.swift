import Foundation
import ModHostTestKit
import Testing

/// Hot swap end to end (issue 3, items 1-4): `modules.swap` carries the state to the new build,
/// waits for calls in flight and holds new ones, fails cleanly at every step with the old
/// instance serving on, `modules.rollback` goes back, and retired images are accounted for.
///
/// The module is `Fixtures/swappable.c` (`counter`), built at test time as version 1 and 2 and
/// as builds that fail on purpose. Builds to swap to live outside the plugin directory, so that
/// only version 1 is loaded at start.
@Suite struct SwapTests {
    /// A host serving `counter` 1.0.0, loaded at start, and a directory for builds to swap to.
    private struct Bench {
        let host: HostProcess
        let builds: String

        func build(version: Int, defines: [String] = [], name: String? = nil) throws -> String {
            try TestPlugins.counter(into: builds, version: version, defines: defines, name: name)
        }

        @discardableResult
        func swap(to path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
            let response = try host.request("modules.swap", ["id": "counter", "path": .string(path)])
            try #require(response["error"] == .null, "swap to \(path) failed: \(response["error"])", sourceLocation: sourceLocation)
            return response["result"]
        }

        /// A swap that must fail; returns the error object.
        func failedSwap(to path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
            try host.expectFailure("modules.swap", ["id": "counter", "path": .string(path)], sourceLocation: sourceLocation)
        }

        @discardableResult
        func rollback(sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
            let response = try host.request("modules.rollback", ["id": "counter"])
            try #require(response["error"] == .null, "rollback failed: \(response["error"])", sourceLocation: sourceLocation)
            return response["result"]
        }

        @discardableResult
        func counter(_ method: String, _ params: JSON? = nil) throws -> JSON {
            try host.call("counter.\(method)", params)
        }

        /// The old instance serves on, unchanged: same version and generation, same state.
        func expectServing(version: String, generation: Int64, total: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try counter("version") == .string(version), sourceLocation: sourceLocation)
            #expect(try counter("total") == .int(total), sourceLocation: sourceLocation)
            let modules = try host.call("modules.list")["modules"].array ?? []
            let entry = modules.first { $0["id"] == "counter" } ?? .null
            #expect(entry["state"] == "running", "\(modules)", sourceLocation: sourceLocation)
            #expect(entry["version"] == .string(version), "\(modules)", sourceLocation: sourceLocation)
            #expect(entry["generation"] == .int(generation), "\(modules)", sourceLocation: sourceLocation)
        }

        var retiredImages: Int64 {
            get throws { try host.call("host.status")["retiredImages"].int ?? -1 }
        }
    }

    private func bench(v1Defines: [String] = [], arguments: [String] = []) throws -> Bench {
        let plugins = try TestPlugins.directory()
        try TestPlugins.counter(into: plugins, version: 1, defines: v1Defines)
        let host = try HostProcess(plugins: plugins, extraArguments: arguments)
        return Bench(host: host, builds: try TestPlugins.directory())
    }

    /// The builds that fail a swap on purpose, one step each.
    enum FailingBuild: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case initFails = "SWAP_FAIL_INIT"
        case importFails = "SWAP_FAIL_IMPORT"
        case startFails = "SWAP_FAIL_START"

        var define: String { "-D\(rawValue)" }
        /// What the build writes to the error sink.
        var message: String {
            switch self {
            case .initFails: "init refused on purpose (SWAP_FAIL_INIT)"
            case .importFails: "import refused on purpose (SWAP_FAIL_IMPORT)"
            case .startFails: "start refused on purpose (SWAP_FAIL_START)"
            }
        }
        /// The build tag the fixture puts in its log lines.
        var tag: String {
            switch self {
            case .initFails: "fail-init"
            case .importFails: "fail-import"
            case .startFails: "fail-start"
            }
        }
        var testDescription: String { rawValue }
    }

    // MARK: Swapping

    @Test func swapCarriesTheStateToTheNewVersion() throws {
        let bench = try bench()
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
        let bench = try bench()
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [10]) == 10)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"held","method":"counter.hold","params":[2000]}"#)
        // Calls of the module run in order: once this is answered, `hold` is pending in the plugin.
        #expect(try bench.counter("total") == 10)
        let sent = Date()
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#)
        // Let the swap start draining (it waits for `held`, due 2 s after it was sent).
        Thread.sleep(forTimeInterval: 0.5)
        try bench.host.send(raw: [
            #"{"jsonrpc":"2.0","id":"q1","method":"counter.add","params":[1]}"#,
            #"{"jsonrpc":"2.0","id":"q2","method":"counter.add","params":[2]}"#,
            #"{"jsonrpc":"2.0","id":"q3","method":"counter.version"}"#,
            #"{"jsonrpc":"2.0","id":"q4","method":"counter.add","params":[3]}"#,
            #"{"jsonrpc":"2.0","id":"q5","method":"counter.add","params":[4]}"#,
        ].joined(separator: "\n"))

        // The pending call completed on version 1 with the total before the queued calls.
        #expect(try bench.host.response(id: "held")["result"] == 10)
        let swap = try bench.host.response(id: "swap")
        #expect(swap["error"] == .null, "\(swap)")
        #expect(swap["result"]["to"] == "2.0.0")
        #expect(swap["result"]["stateBytes"] == .int(Int64(#"{"total":10}"#.utf8.count)))
        // The swap waited for the held call: calls were held for most of its 2 s.
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
        let held = try #require(responseLine(bench.host, id: "held"))
        for id in ["q1", "q2", "q3", "q4", "q5"] {
            let line = try #require(responseLine(bench.host, id: id))
            #expect(line > held, "\(id) was answered before the pending call finished: it was not held by the swap")
        }
    }

    /// Calls written right behind the swap, in the same chunk, keep their order and are all
    /// answered, whichever instance they reach.
    @Test func callsPipelinedBehindASwapKeepTheirOrder() throws {
        let bench = try bench()
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

    // MARK: Failures

    /// A call still pending at the drain deadline fails the swap; the old instance serves on
    /// and the pending call can still be completed.
    @Test func drainTimeoutFailsTheSwapAndTheOldVersionServesOn() throws {
        let bench = try bench(arguments: ["--drain-timeout-ms", "300"])
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [4]) == 4)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"held","method":"counter.hold"}"#)
        #expect(try bench.counter("total") == 4)  // `hold` is pending now

        let started = Date()
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#)
        Thread.sleep(forTimeInterval: 0.1)
        // Arrives while the swap drains: held, then run on the old instance when the swap fails.
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"during","method":"counter.add","params":[1]}"#)
        let error = try bench.host.response(id: "swap")["error"]
        let elapsed = Date().timeIntervalSince(started)
        #expect(error["code"] == -32002)
        #expect(error["data"]["module"] == "counter")
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.contains("drain timeout"), "\(error)")
        #expect(elapsed >= 0.25 && elapsed < 5, "the swap gave up after \(elapsed) s; the drain timeout is 0.3 s")
        // The new instance was destroyed, the old one serves on with its state and its pending call.
        #expect(try bench.host.response(id: "during")["result"] == 5, "the call held by the failed swap is lost or failed")
        try bench.host.waitForStderr(containing: "destroyed counter 2.0.0 (ok)")
        try bench.expectServing(version: "1.0.0", generation: 1, total: 5)
        #expect(bench.host.unreadLines.isEmpty, "the held call must still be pending: \(bench.host.unreadLines)")
        #expect(try bench.counter("add", [1]) == 6)
        #expect(try bench.counter("release") == true)
        #expect(try bench.host.response(id: "held")["result"] == 6)
        #expect(try bench.counter("release") == false)

        // With nothing pending, the same swap goes through.
        let swapped = try bench.swap(to: v2)
        #expect(swapped["to"] == "2.0.0")
        #expect(try bench.counter("total") == 6)
    }

    /// A call running in `handle` when the swap starts (in flight, not pending) finishes on the
    /// old instance first; the swap waits for it.
    @Test func callInFlightWhenTheSwapStartsFinishesFirst() throws {
        let bench = try bench()
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [8]) == 8)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"busy","method":"counter.busy","params":[800]}"#)
        Thread.sleep(forTimeInterval: 0.2)  // running in handle now
        try bench.host.send(raw: [
            #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#,
            #"{"jsonrpc":"2.0","id":"after","method":"counter.version"}"#,
        ].joined(separator: "\n"))
        #expect(try bench.host.response(id: "busy")["result"] == 8)
        let swap = try bench.host.response(id: "swap")
        #expect(swap["result"]["to"] == "2.0.0", "\(swap)")
        #expect((swap["result"]["pauseMicros"].int ?? 0) >= 200_000, "the swap should have waited for the running call: \(swap)")
        #expect(try bench.host.response(id: "after")["result"] == "2.0.0")
        #expect(try bench.counter("total") == 8)
    }

    /// A call still running in `handle` at the drain deadline fails the swap; the call itself
    /// completes normally and the old instance serves on.
    @Test func callStillRunningAtTheDrainDeadlineFailsTheSwap() throws {
        let bench = try bench(arguments: ["--drain-timeout-ms", "300"])
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [8]) == 8)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"busy","method":"counter.busy","params":[1500]}"#)
        Thread.sleep(forTimeInterval: 0.2)  // running in handle now
        let started = Date()
        let error = try bench.failedSwap(to: v2)
        #expect(Date().timeIntervalSince(started) < 1.2, "the swap should give up at the drain timeout, not wait for the call")
        #expect(error["code"] == -32002)
        #expect((error["data"]["reason"].string ?? "").contains("drain timeout"), "\(error)")
        #expect(try bench.host.response(id: "busy")["result"] == 8)
        try bench.expectServing(version: "1.0.0", generation: 1, total: 8)
        #expect(try bench.counter("add", [1]) == 9)
        #expect(try bench.swap(to: v2)["to"] == "2.0.0")
        #expect(try bench.counter("total") == 9)
    }

    /// A build that fails at init, import_state or start: -32002 naming the reason, the new
    /// instance destroyed, the old one serving with its state unchanged; then a good swap works.
    @Test(arguments: FailingBuild.allCases)
    func failingBuildLeavesTheOldVersionServing(_ failing: FailingBuild) throws {
        let bench = try bench()
        try bench.host.call("events.subscribe", ["topics": ["modules.swap_failed"]])
        #expect(try bench.counter("add", [40]) == 40)
        #expect(try bench.counter("add", [2]) == 42)
        let path = try bench.build(version: 2, defines: [failing.define], name: "libcounter-\(failing.tag).so")

        let error = try bench.failedSwap(to: path)
        #expect(error["code"] == -32002)
        #expect(error["data"]["module"] == "counter")
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.contains(failing.message), "the reason should carry the plugin's message: \(error)")
        #expect((error["message"].string ?? "").contains(failing.message), "\(error)")
        let event = try bench.host.nextEvent(topic: "modules.swap_failed")
        #expect(event["data"]["id"] == "counter")
        #expect(event["data"]["file"] == .string(path))
        #expect((event["data"]["reason"].string ?? "").contains(failing.message), "\(event)")

        // The old instance serves on: same generation, same state (calls is per instance in
        // version 1: 2 means it is the very same instance, neither replaced nor reset).
        try bench.expectServing(version: "1.0.0", generation: 1, total: 42)
        #expect(try bench.counter("calls") == 2)
        #expect(try bench.counter("add", [1]) == 43)
        switch failing {
        case .initFails:
            break  // no instance was made
        case .importFails, .startFails:
            // The new instance was destroyed; the old one was stopped (export) and started again.
            let stderr = try bench.host.waitForStderr(containing: "destroyed counter 2.0.0 (\(failing.tag))")
            #expect(stderr.components(separatedBy: "started counter 1.0.0 (ok)").count - 1 == 2, "\(stderr)")
            #expect(stderr.contains("stopped counter 1.0.0 (ok)"))
        }

        // A good swap afterwards still works and carries the state.
        let swapped = try bench.swap(to: bench.build(version: 2))
        #expect(swapped["from"] == "1.0.0")
        #expect(swapped["to"] == "2.0.0")
        #expect(try bench.counter("version") == "2.0.0")
        #expect(try bench.counter("total") == 43)
        #expect(try bench.host.shutdown() == 0)
    }

    /// Files that are not the next generation of the module: missing, not a shared object,
    /// another ABI major, another module's id. Each is refused with -32002 naming why.
    @Test func unfitFilesAreRefusedAndTheOldVersionServesOn() throws {
        let bench = try bench()
        #expect(try bench.counter("add", [9]) == 9)
        let garbage = "\(bench.builds)/libgarbage.so"
        #expect(FileManager.default.createFile(atPath: garbage, contents: Data("not a plugin\n".utf8)))
        let abi2 = try TestPlugins.broken(
            into: bench.builds, name: "libabi2.so", defines: ["-DMH_FIXTURE_ABI_MAJOR=2", "-DMH_FIXTURE_ID=\"counter\""])
        let other = try bench.build(version: 2, defines: ["-DSWAP_ID=\"other\""], name: "libother.so")
        let cases: [(path: String, words: [String])] = [
            ("\(bench.builds)/nosuch.so", ["no such file"]),
            (garbage, ["not a shared object"]),
            (abi2, ["ABI 2.0"]),
            (other, ["other", "not counter"]),
        ]
        for (path, words) in cases {
            let error = try bench.failedSwap(to: path)
            #expect(error["code"] == -32002, "\(path): \(error)")
            let reason = error["data"]["reason"].string ?? ""
            for word in words { #expect(reason.contains(word), "\(path): the reason should say \"\(word)\": \(reason)") }
            try bench.expectServing(version: "1.0.0", generation: 1, total: 9)
        }
        #expect(try bench.host.moduleStates() == ["counter": "running"], "the other module must not have been loaded")
        #expect(try bench.counter("add", [1]) == 10)
    }

    /// A new version that a running dependent's requirement excludes is refused, naming both.
    @Test func swapThatBreaksADependentsRequirementIsRefused() throws {
        let bench = try bench()
        let user = try TestPlugins.probe(into: bench.builds, id: "user", requires: ["counter <2"])
        try bench.host.call("modules.load", ["path": .string(user)])
        let error = try bench.failedSwap(to: bench.build(version: 2))
        #expect(error["code"] == -32002)
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.contains("user") && reason.contains("counter <2") && reason.contains("2.0.0"), "\(reason)")
        try bench.expectServing(version: "1.0.0", generation: 1, total: 0)
        // A version the requirement allows is fine.
        #expect(try bench.swap(to: bench.build(version: 1, name: "libcounter-v1b.so"))["from"] == "1.0.0")
    }

    // MARK: Rollback

    /// The generation a swap replaced stays resident; rollback swaps back to it, carrying the
    /// state back (including what changed on the newer version) and discarding the newer one.
    @Test func rollbackReturnsToThePreviousGenerationWithTheState() throws {
        let bench = try bench()
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
        let bench = try bench(v1Defines: ["-DSWAP_FAIL_IMPORT"])
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
        let bench = try bench()
        #expect(try bench.counter("add", [3]) == 3)
        let error = try bench.host.expectFailure("modules.rollback", ["id": "counter"])
        #expect(error["code"] == -32005, "\(error)")
        try bench.expectServing(version: "1.0.0", generation: 1, total: 3)
        #expect(try bench.host.expectFailure("modules.rollback", ["id": "nosuch"])["code"] == -32602)
        #expect(try bench.host.expectFailure("modules.swap", ["id": "nosuch", "path": .string(bench.build(version: 2))])["code"] == -32602)
    }

    // MARK: Events

    @Test func swapsAndFailedSwapsArePublished() throws {
        let bench = try bench()
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

    // MARK: Retired images

    /// Swift images are never unmapped: each generation retired counts in `retiredImages` and
    /// stays mapped. The one a swap replaced is kept for rollback, so it retires when the next
    /// swap displaces it (or, for the newer one, when a rollback discards it).
    @Test func retiredSwiftImagesAreCountedAndStayMapped() throws {
        let plugins = try TestPlugins.directory()
        let builds = try TestPlugins.directory()
        let calcA = try TestPlugins.swiftPlugin("libCalc.so", into: plugins, name: "libCalc-a.so")
        let calcB = try TestPlugins.swiftPlugin("libCalc.so", into: builds, name: "libCalc-b.so")
        let host = try HostProcess(plugins: plugins)
        func retired() throws -> Int64 { try host.call("host.status")["retiredImages"].int ?? -1 }
        func swap(_ path: String) throws -> JSON { try host.call("modules.swap", ["id": "calc", "path": .string(path)]) }
        let before = try retired()
        #expect(try host.call("calc.subtract", [42, 23]) == 19)

        #expect(try swap(calcB)["generation"] == 2)
        #expect(try retired() == before, "generation 1 is kept resident for rollback, not retired yet")
        #expect(try swap(calcA)["generation"] == 3)
        #expect(try retired() == before + 1)
        #expect(try swap(calcB)["generation"] == 4)
        #expect(try retired() == before + 2)
        #expect(try host.call("calc.subtract", [42, 23]) == 19)
        #expect(try host.call("modules.rollback", ["id": "calc"])["generation"] == 3)
        #expect(try retired() == before + 3, "the generation a rollback discards retires too")
        #expect(try host.call("calc.subtract", [42, 23]) == 19)
        // A Swift image refused after it was mapped (calc is loaded already) stays mapped too.
        let calcC = try TestPlugins.swiftPlugin("libCalc.so", into: builds, name: "libCalc-c.so")
        #expect(try host.request("modules.load", ["path": .string(calcC)])["error"]["code"] == -32003)
        #expect(try retired() == before + 4)
        // Five images were opened (the start, three swaps, the refused load); none was unmapped.
        let mapped = try mappedImages(host, containing: "libCalc-")
        #expect(mapped.count == 5, "\(mapped)")
        #expect(try host.shutdown() == 0)
    }

    /// A C plugin that declares MH_FLAG_UNLOADABLE is dlclosed when retired: `retiredImages`
    /// does not grow and only the current and the resident previous image stay mapped.
    @Test func retiredUnloadableCImagesAreClosed() throws {
        let bench = try bench()
        let v1 = try bench.build(version: 1)
        let v2 = try bench.build(version: 2)
        let before = try bench.retiredImages
        #expect(try bench.counter("add", [1]) == 1)
        for (index, path) in [v2, v1, v2].enumerated() {
            try bench.swap(to: path)
            #expect(try bench.retiredImages == before, "after swap \(index + 1)")
            #expect(try mappedImages(bench.host, containing: "libcounter-").count == 2, "after swap \(index + 1): current and previous")
            #expect(try bench.counter("add", [1]) == .int(Int64(index + 2)))
        }
        #expect(try bench.rollback()["to"] == "1.0.0")
        #expect(try bench.retiredImages == before)
        #expect(try mappedImages(bench.host, containing: "libcounter-").count == 1, "after rollback only the current image stays")
        #expect(try bench.counter("total") == 4)
        #expect(try bench.host.shutdown() == 0)
    }

    /// The same C plugin built with -DSWAP_FLAGS=0 (not unloadable) is counted as retired, and
    /// stays mapped, once a swap displaces it.
    @Test func retiredCImagesThatAreNotUnloadableAreCounted() throws {
        let bench = try bench(v1Defines: ["-DSWAP_FLAGS=0"])
        let v1 = try bench.build(version: 1)
        let v2 = try bench.build(version: 2)
        let before = try bench.retiredImages
        #expect(try bench.counter("add", [6]) == 6)
        try bench.swap(to: v2)
        #expect(try bench.retiredImages == before, "the replaced generation is resident for rollback")
        try bench.swap(to: v1)
        #expect(try bench.retiredImages == before + 1, "the non-unloadable generation 1 retired")
        #expect(try mappedImages(bench.host, containing: "libcounter-").count == 3, "generation 1 stays mapped")
        try bench.swap(to: v2)
        #expect(try bench.retiredImages == before + 1, "generation 2 is unloadable: closed, not counted")
        #expect(try mappedImages(bench.host, containing: "libcounter-").count == 3)
        #expect(try bench.counter("total") == 6)
    }

    // MARK: Helpers

    /// The index in the host's stdout of the response to `id`.
    private func responseLine(_ host: HostProcess, id: String) -> Int? {
        host.stdoutLines.firstIndex { line in
            guard let message = try? JSON(parsing: line) else { return false }
            return message["id"] == .string(id) && message["method"] == .null
        }
    }

    /// The plugin images mapped in the host now whose file name contains `fragment`: the
    /// loader's private copies (`<n>-<file>`, unlinked once mapped) listed in /proc/<pid>/maps.
    private func mappedImages(_ host: HostProcess, containing fragment: String) throws -> Set<String> {
        let maps = try readProcFile("/proc/\(host.process.processIdentifier)/maps")
        var names = Set<String>()
        for line in maps.split(separator: "\n") where line.contains("/modhost-images-") {
            guard let slash = line.lastIndex(of: "/") else { continue }
            var name = String(line[line.index(after: slash)...])
            if name.hasSuffix(" (deleted)") { name.removeLast(" (deleted)".count) }
            if name.contains(fragment) { names.insert(name) }
        }
        return names
    }

    /// Reads a /proc file to its end (they report size 0, so read until read(2) says so).
    private func readProcFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HostProcessError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
