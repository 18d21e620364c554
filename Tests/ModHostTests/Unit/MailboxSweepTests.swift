@testable import ModHost
import Testing

/// The call-timeout sweep of a module's queue (`Mailbox.takeCalls`): with the host's timeout
/// alone, calls queue in deadline order and only the front is looked at; a call with a shorter
/// deadline of its own (`call_v2`) may wait behind a later one and must still be found.
@Suite struct MailboxSweepTests {
    /// A call due at `nanoseconds` (monotonic) whose outcome goes nowhere.
    private func call(_ name: String, due nanoseconds: UInt64, fromCaller: Bool, slot: ModuleSlot) -> Call {
        Call(method: name, slot: slot, reply: .handler({ _ in }), id: nil, params: nil,
             deadline: CallDeadline(nanoseconds: nanoseconds, milliseconds: 1, fromCaller: fromCaller))
    }

    @Test func aShorterCallerDeadlineBehindALongerOneIsTaken() {
        let slot = ModuleSlot(id: "m", concurrent: false, maxResultBytes: 1 << 20)
        slot.mailbox.pause()  // nothing runs: the calls stay queued
        defer { slot.mailbox.close() }
        slot.mailbox.post(.call(call("long", due: 1_000, fromCaller: false, slot: slot)))
        slot.mailbox.post(.call(call("short", due: 500, fromCaller: true, slot: slot)))
        slot.mailbox.post(.call(call("later", due: 2_000, fromCaller: false, slot: slot)))

        #expect(slot.mailbox.takeCalls(dueBy: 400).map(\.method) == [])
        #expect(slot.mailbox.takeCalls(dueBy: 600).map(\.method) == ["short"])
        #expect(slot.mailbox.queuedCount == 2)
        #expect(slot.mailbox.takeCalls(dueBy: 1_500).map(\.method) == ["long"])
        #expect(slot.mailbox.takeCalls(dueBy: 2_000).map(\.method) == ["later"])
        #expect(slot.mailbox.queuedCount == 0)
    }

    @Test func theHostsOwnTimeoutsAreSweptFromTheFront() {
        let slot = ModuleSlot(id: "m", concurrent: false, maxResultBytes: 1 << 20)
        slot.mailbox.pause()
        defer { slot.mailbox.close() }
        for (index, due) in [100, 200, 300].enumerated() {
            slot.mailbox.post(.call(call("c\(index)", due: UInt64(due), fromCaller: false, slot: slot)))
        }
        #expect(slot.mailbox.takeCalls(dueBy: 250).map(\.method) == ["c0", "c1"])
        #expect(slot.mailbox.queuedCount == 1)
    }

    @Test func remainingMillisecondsNeverGoBelowZero() {
        let deadline = CallDeadline(nanoseconds: 5_000_000_000, milliseconds: 5_000, fromCaller: true)
        #expect(deadline.remainingMilliseconds(at: 2_000_000_000) == 3_000)
        #expect(deadline.remainingMilliseconds(at: 5_000_000_000) == 0)
        #expect(deadline.remainingMilliseconds(at: 9_000_000_000) == 0)
        #expect(CallDeadline.after(milliseconds: .max).nanoseconds == .max)  // saturates
        #expect(deadline.origin == "the deadline its caller set with call_v2")
    }
}
