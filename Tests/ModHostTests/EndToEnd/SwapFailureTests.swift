import Foundation
import ModHostTestKit
import Testing

/// Hot swap failures (issue 3, item 2): a bad file, a failing init, import_state or start, and a
/// drain timeout each answer -32002 with the reason, destroy the new instance, and leave the old
/// one serving with its state.
@Suite struct SwapFailureTests {
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

    // MARK: Failures

    /// A call still pending at the drain deadline fails the swap; the old instance serves on
    /// and the pending call can still be completed.
    @Test func drainTimeoutFailsTheSwapAndTheOldVersionServesOn() throws {
        let bench = try CounterBench.start(arguments: ["--drain-timeout-ms", "300"])
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [4]) == 4)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"held","method":"counter.hold"}"#)
        #expect(try bench.counter("total") == 4)  // `hold` is pending now

        let started = Date()
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#)
        try bench.host.waitUntilHolding("counter")
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
        let bench = try CounterBench.start()
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [8]) == 8)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"busy","method":"counter.busy","params":[3000]}"#)
        try bench.host.waitUntilRunning("counter")
        try bench.host.send(raw: [
            #"{"jsonrpc":"2.0","id":"swap","method":"modules.swap","params":{"id":"counter","path":"\#(v2)"}}"#,
            #"{"jsonrpc":"2.0","id":"after","method":"counter.version"}"#,
        ].joined(separator: "\n"))
        #expect(try bench.host.response(id: "busy", timeout: 30)["result"] == 8)
        let swap = try bench.host.response(id: "swap", timeout: 30)
        #expect(swap["result"]["to"] == "2.0.0", "\(swap)")
        // The new build is loaded before the pause: on a loaded machine that takes part of the call's 3 s.
        #expect((swap["result"]["pauseMicros"].int ?? 0) >= 200_000, "the swap should have waited for the running call: \(swap)")
        #expect(try bench.host.response(id: "after")["result"] == "2.0.0")
        #expect(try bench.counter("total") == 8)
    }

    /// A call still running in `handle` at the drain deadline fails the swap; the call itself
    /// completes normally and the old instance serves on.
    @Test func callStillRunningAtTheDrainDeadlineFailsTheSwap() throws {
        let bench = try CounterBench.start(arguments: ["--drain-timeout-ms", "300"])
        let v2 = try bench.build(version: 2)
        #expect(try bench.counter("add", [8]) == 8)
        try bench.host.send(raw: #"{"jsonrpc":"2.0","id":"busy","method":"counter.busy","params":[10000]}"#)
        try bench.host.waitUntilRunning("counter")
        let started = Date()
        let error = try bench.failedSwap(to: v2)
        #expect(Date().timeIntervalSince(started) < 5, "the swap should give up at the drain timeout, not wait for the 10 s call")
        #expect(error["code"] == -32002)
        #expect((error["data"]["reason"].string ?? "").contains("drain timeout"), "\(error)")
        #expect(try bench.host.response(id: "busy", timeout: 30)["result"] == 8)
        try bench.expectServing(version: "1.0.0", generation: 1, total: 8)
        #expect(try bench.counter("add", [1]) == 9)
        #expect(try bench.swap(to: v2)["to"] == "2.0.0")
        #expect(try bench.counter("total") == 9)
    }

    /// A build that fails at init, import_state or start: -32002 naming the reason, the new
    /// instance destroyed, the old one serving with its state unchanged; then a good swap works.
    @Test(arguments: FailingBuild.allCases)
    func failingBuildLeavesTheOldVersionServing(_ failing: FailingBuild) throws {
        let bench = try CounterBench.start()
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
        let bench = try CounterBench.start()
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
        let bench = try CounterBench.start()
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

}
