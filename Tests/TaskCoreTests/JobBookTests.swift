import Foundation
import ModHostJSON
import ModuleSupport
import Testing
@testable import TaskCore

/// Registration and its refusals, the methods, overlap, the history, default jobs and records.
@Suite struct JobBookTests {
    typealias D = JobBookDriver
    static let (start, minute, hour) = (D.start, D.minute, D.hour)

    func refusal(_ request: RegisterRequest) -> String? {
        var driver = D()
        do {
            _ = try driver.run { try $0.register(request, at: $1, effects: &$2) }
            return nil
        } catch {
            return (error as? ModuleFailure).map { "\($0.kind == .invalidInput ? "-32602" : "other") \($0.message)" }
        }
    }

    @Test func badRegistrationsAreRefusedNamingTheField() {
        let call = JobCall(method: "echo.say")
        #expect(refusal(.init(name: "", schedule: "* * * * *", call: call))
            == "-32602 name must be 1 to 128 of A-Z a-z 0-9 . _ - and not start with a dot, got \"\"")
        #expect(refusal(.init(name: ".hidden", schedule: "* * * * *", call: call))?.hasPrefix("-32602 name must be") == true)
        #expect(refusal(.init(name: "a/b", schedule: "* * * * *", call: call))?.hasPrefix("-32602 name must be") == true)
        #expect(refusal(.init(name: "j", schedule: "* * * * *"))
            == "-32602 give exactly one of call {method, params} or publish {topic, data}")
        #expect(refusal(.init(name: "j", schedule: "* * * * *", call: call, publish: JobPublish(topic: "x.y")))
            == "-32602 give exactly one of call {method, params} or publish {topic, data}")
        #expect(refusal(.init(name: "j", schedule: "* * * * *", call: JobCall(method: "nodot")))
            == "-32602 call.method must be module.method (such as session.cleanup), 1 to 200 bytes without spaces, got \"nodot\"")
        #expect(refusal(.init(name: "j", schedule: "* * * * *", publish: JobPublish(topic: "has space")))?
            .hasPrefix("-32602 publish.topic must be a topic") == true)
        #expect(refusal(.init(name: "j", schedule: "0 61 * * *", call: call))
            == "-32602 schedule \"0 61 * * *\": hour field at position 3: 61 is out of range 0-23")
        #expect(refusal(.init(name: "j", schedule: "* * * * *", timezone: "Mars/Olympus", call: call))
            == "-32602 timezone \"Mars/Olympus\" is not an IANA time zone name (such as Europe/Berlin or UTC)")
        #expect(refusal(.init(name: "j", schedule: "* * * * *", call: call, overlap: "sometimes"))
            == "-32602 overlap must be one of skip, queue, allow, got \"sometimes\"")
        #expect(refusal(.init(name: "j", schedule: "* * * * *", call: call, misfire: "twice"))
            == "-32602 misfire must be one of skip, once, all, got \"twice\"")
        let big = JSONValue.string(String(repeating: "x", count: 70_000))
        #expect(refusal(.init(name: "j", schedule: "* * * * *", call: JobCall(method: "a.b", params: big)))
            == "-32602 call.params must be at most 65536 bytes of JSON, got 70002")
    }

    @Test func registeringAnExistingNameReplacesItsDefinitionAndKeepsItsHistory() throws {
        var driver = D()
        try driver.register("sync", "@hourly")
        driver.advance(to: Self.start + 2 * Self.hour)
        let replaced = try driver.register("sync", "*/5 * * * *", method: "other.method", overlap: "allow")
        #expect(replaced.call?.method == "other.method" && replaced.overlap == .allow && replaced.misfire == .once)
        #expect(replaced.runs.count == 2 && replaced.nextRunAt == Self.start + 2 * Self.hour + 5 * Self.minute)
        driver.advance(to: Self.start + 2 * Self.hour + 5 * Self.minute)
        #expect(driver.view("sync").runs.map(\.run) == [3, 2, 1])
        #expect(driver.fired.last?.target == .call(method: "other.method", params: nil))
    }

    @Test func enableDisableRemoveAndRunNow() throws {
        var driver = D()
        try driver.register("sync", "@hourly", enabled: false)
        #expect(driver.view("sync").nextRunAt == nil)
        // runNow runs a disabled job too.
        let now = try driver.run { try $0.runNow("sync", at: $1, effects: &$2) }
        #expect(now.run.status == .pending && now.run.trigger == .manual && now.fire?.scheduledAt == Self.start)
        driver.submit([now.fire!])
        #expect(driver.view("sync").lastRun?.status == .succeeded && driver.view("sync").lastRun?.taskId == "t1")
        #expect(try driver.run { try $0.enable("sync", at: $1, effects: &$2) }.nextRunAt == Self.start + Self.hour)
        #expect(try driver.run { try $0.disable("sync", at: $1, effects: &$2) }.enabled == false)
        #expect(try driver.run { try $0.remove("sync", effects: &$2) } == true)
        #expect(driver.store["job/sync"] == nil && driver.book.nextWakeMs == nil)
        #expect(try driver.run { try $0.remove("sync", effects: &$2) } == false)
        #expect(throws: ModuleFailure.reason("job_not_found", "no job named \"sync\" (task.list lists them)")) {
            try driver.run { try $0.enable("sync", at: $1, effects: &$2) }
        }
    }

    @Test func overlapSkipDropsARunWhileThePreviousIsActive() throws {
        var driver = D()
        driver.hold = true
        try driver.register("slow", "* * * * *")
        driver.advance(to: Self.start + 2 * Self.minute)
        #expect(driver.fired.map(\.scheduledAt) == [Self.start + Self.minute])
        let skipped = driver.view("slow").runs.first!
        #expect(skipped.status == .skipped && skipped.note == "run 1 is still pending or running (overlap: skip)")
        driver.finish("t1")
        driver.advance(to: Self.start + 3 * Self.minute)
        #expect(driver.fired.map(\.scheduledAt) == [Self.start + Self.minute, Self.start + 3 * Self.minute])
    }

    @Test func overlapQueueRunsAfterThePreviousEnds() throws {
        var driver = D()
        driver.hold = true
        try driver.register("slow", "* * * * *", overlap: "queue")
        driver.advance(to: Self.start + 3 * Self.minute)
        #expect(driver.fired.count == 1)
        #expect(driver.view("slow").runs.map(\.status) == [.queued, .queued, .pending] && driver.view("slow").waiting == 2)
        driver.finish("t1")
        #expect(driver.fired.map(\.scheduledAt) == [1, 2].map { Self.start + $0 * Self.minute })
        #expect(driver.view("slow").runs.map(\.status) == [.queued, .pending, .succeeded])
        driver.finish("t2", .init(status: .failed, errorCode: -32000, errorMessage: "boom"))
        #expect(driver.fired.map(\.scheduledAt) == [1, 2, 3].map { Self.start + $0 * Self.minute })
        #expect(driver.view("slow").lastResult == JobResult(run: 2, status: .failed, finishedAt: driver.now, result: nil,
                                                          error: JobError(code: -32000, message: "boom")))
        // At most 10 wait: the 11th is skipped.
        driver.advance(to: Self.start + 14 * Self.minute)
        #expect(driver.view("slow").waiting == JobBook.maxWaiting)
        #expect(driver.view("slow").runs.first?.note == "10 runs wait already (overlap: queue)")
    }

    @Test func overlapAllowRunsAnyway() throws {
        var driver = D()
        driver.hold = true
        try driver.register("slow", "* * * * *", overlap: "allow")
        driver.advance(to: Self.start + 3 * Self.minute)
        #expect(driver.fired.count == 3 && driver.view("slow").active == 3)
    }

    @Test func theHistoryKeepsTheLast20Runs() throws {
        var driver = D()
        try driver.register("tick", "* * * * *")
        driver.advance(to: Self.start + 25 * Self.minute)
        let runs = driver.view("tick").runs
        #expect(runs.count == 20 && runs.first?.run == 25 && runs.last?.run == 6)
        #expect(runs.allSatisfy { $0.status == .succeeded && $0.finishedAt != nil && $0.taskId != nil })
        #expect(try driver.record("tick").history.count == 20)
    }

    @Test func aDefaultJobWhoseModuleIsAbsentRecordsASkippedRun() throws {
        var driver = D()
        driver.hold = true
        driver.run { book, now, effects in book.installDefaults(try! JobDefaults.definitions(nil), at: now, effects: &effects) }
        #expect(try driver.book.list(ListRequest()).jobs.map(\.name) == ["session-cleanup", "session-evict", "token-refresh"])
        driver.advance(to: Self.start + Self.minute)
        #expect(driver.fired.map(\.name) == ["token-refresh"])
        driver.finish("t1", .init(status: .failed, errorCode: -32601, errorMessage: "no method token.refreshDue"))
        let run = driver.view("token-refresh").runs.first!
        #expect(run.status == .skipped && run.note == "its module is not loaded")
        #expect(driver.logs == ["job token-refresh: token.refreshDue is not served (its module is not loaded): skipped"])
        // A job of the user's with a wrong method fails.
        try driver.register("mine", "* * * * *", method: "nowhere.at")
        driver.advance(to: Self.start + 2 * Self.minute)
        let mine = "t\(driver.fired.lastIndex { $0.name == "mine" }! + 1)"
        driver.finish(mine, .init(status: .failed, errorCode: -32601, errorMessage: "no method"))
        #expect(driver.view("mine").runs.first?.status == .failed)
        #expect(throws: ModuleFailure.self) { try driver.register("token-refresh", "* * * * *") }
        #expect(throws: ModuleFailure.self) { try driver.run { try $0.remove("session-evict", effects: &$2) } }
    }

    @Test func configChangesOrDisablesADefaultJob() throws {
        let configured = try JobDefaults.definitions([
            "token-refresh": DefaultJobConfig(schedule: "*/5 * * * *", enabled: nil),
            "session-cleanup": DefaultJobConfig(params: ["olderThanHours": 24], enabled: false),
        ])
        var driver = D()
        driver.run { $0.installDefaults(configured, at: $1, effects: &$2) }
        #expect(driver.view("token-refresh").schedule == "*/5 * * * *" && driver.view("token-refresh").nextRunAt == Self.start + 5 * Self.minute)
        #expect(driver.view("session-cleanup").enabled == false && driver.view("session-cleanup").call?.params == ["olderThanHours": 24])
        #expect(driver.view("session-evict").schedule == "@hourly" && driver.view("session-evict").isDefault)
        // task.disable of a default job stands across a restart while config says nothing of it.
        _ = try driver.run { try $0.disable("token-refresh", at: $1, effects: &$2) }
        var restarted = try driver.restarted(at: Self.start + Self.hour)
        restarted.run { $0.installDefaults(configured, at: $1, effects: &$2) }
        #expect(restarted.view("token-refresh").enabled == false)
        #expect(throws: ModuleFailure.invalidInput("task.defaultJobs: there is no default job \"token\" (they are session-evict, session-cleanup, token-refresh)")) {
            try JobDefaults.definitions(["token": DefaultJobConfig()])
        }
        #expect(throws: ModuleFailure.invalidInput("task.defaultJobs.token-refresh: schedule \"* * *\": at position 6: expected 5 or 6 fields (sec min hour dom mon dow), found 3")) {
            try JobDefaults.definitions(["token-refresh": DefaultJobConfig(schedule: "* * *")])
        }
    }

    /// A crash between recording a run and recording its task id: the run is failed at the
    /// restart, and the run queued behind it (`overlap: queue`) starts instead of waiting for good.
    @Test func aRunWaitingBehindOneLostInACrashStartsAfterTheRestart() throws {
        var driver = D()
        driver.hold = true
        try driver.register("slow", "* * * * *", overlap: "queue")
        driver.advance(to: Self.start + 2 * Self.minute)
        var record = try driver.record("slow")
        #expect(record.active.count == 1 && record.waiting.count == 1)
        record.active[0].taskId = nil  // the task id never reached the store
        driver.store["job/slow"] = try JSONEncoder().encode(record)
        var restarted = try driver.restarted(at: Self.start + 2 * Self.minute + 10_000)
        #expect(restarted.book.activeTaskIds.isEmpty && restarted.view("slow").waiting == 1)
        restarted.submit(restarted.run { $0.releaseStranded(at: $1, effects: &$2) })
        #expect(restarted.fired.map(\.scheduledAt) == [Self.start + 2 * Self.minute])
        #expect(restarted.view("slow").waiting == 0 && restarted.view("slow").active == 1)
        #expect(restarted.view("slow").runs.last?.status == .failed, "the lost run is failed, not forgotten")
    }

    @Test func aRunInTheQueueAtACrashEndsAfterTheRestart() throws {
        var driver = D()
        driver.hold = true
        try driver.register("slow", "* * * * *", overlap: "queue")
        driver.advance(to: Self.start + 2 * Self.minute)
        var restarted = try driver.restarted(at: Self.start + 2 * Self.minute + 10_000)
        #expect(restarted.book.activeTaskIds == ["t1"] && restarted.view("slow").waiting == 1)
        restarted.finish("t1")
        #expect(restarted.fired.map(\.scheduledAt) == [Self.start + 2 * Self.minute])
        // A hot swap carries the same.
        var swapped = JobBook(defaultZone: CronZone(identifier: "UTC")!)
        swapped.importState(restarted.book.exportState())
        #expect(swapped.view("slow") == restarted.view("slow") && swapped.activeTaskIds == restarted.book.activeTaskIds)
        #expect(swapped.nextWakeMs == restarted.book.nextWakeMs)
    }
}
