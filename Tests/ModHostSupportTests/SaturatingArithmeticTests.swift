import ModHostSupport
import Testing

/// The saturating operators clamp where plain Swift arithmetic traps.
@Suite struct SaturatingArithmeticTests {
    @Test func additionClampsAtBothEnds() {
        #expect(Int64(2).addingSaturating(3) == 5)
        #expect(Int64.max.addingSaturating(1) == .max)
        #expect(Int64(1).addingSaturating(.max) == .max)
        #expect(Int64.min.addingSaturating(-1) == .min)
        #expect(Int64(-5).addingSaturating(.min) == .min)
        #expect(Int64.max.addingSaturating(.min) == -1)
    }

    @Test func subtractionClampsAtBothEnds() {
        #expect(Int64(2).subtractingSaturating(3) == -1)
        #expect(Int64.min.subtractingSaturating(1) == .min)
        #expect(Int64.max.subtractingSaturating(-1) == .max)
        #expect(Int64(0).subtractingSaturating(.min) == .max)  // -Int64.min does not exist
        #expect(Int64.max.subtractingSaturating(.min) == .max)
        #expect(Int64.min.subtractingSaturating(.max) == .min)
    }

    @Test func multiplicationClampsBySign() {
        #expect(Int64(30_000).multipliedSaturating(by: 7) == 210_000)
        #expect(Int64.max.multipliedSaturating(by: 2) == .max)
        #expect(Int64.max.multipliedSaturating(by: -2) == .min)
        #expect(Int64.min.multipliedSaturating(by: -1) == .max)
        #expect(Int64(-4).multipliedSaturating(by: .max) == .min)
        #expect(Int64(0).multipliedSaturating(by: .max) == 0)
    }
}

/// Deadlines and elapsed times stay within the clock's range and never trap.
@Suite struct HostTimeTests {
    @Test func rangeIsTheYears1970To9999() {
        #expect(HostTime.earliestMs == 0)
        // 9999-12-31T23:59:59.999Z: 2,932,896 days after the epoch, minus one millisecond.
        #expect(HostTime.latestMs == 2_932_897 * 86_400_000 - 1)
        #expect(HostTime.validMs.contains(0) && HostTime.validMs.contains(HostTime.latestMs))
        #expect(!HostTime.validMs.contains(-1) && !HostTime.validMs.contains(HostTime.latestMs + 1))
    }

    @Test func deadlineIsCappedAtTheEndOfTime() {
        #expect(HostTime.deadline(1000, plus: Int64(500)) == 1500)
        #expect(HostTime.deadline(HostTime.latestMs - 10, plus: Int64(60_000)) == HostTime.latestMs)
        #expect(HostTime.deadline(HostTime.latestMs, plus: Int64.max) == HostTime.latestMs)
        #expect(HostTime.deadline(.max, plus: Int64.max) == HostTime.latestMs)
        #expect(HostTime.deadline(10, plus: Int64.min) == 0)
        #expect(HostTime.deadline(5, plus: UInt64.max) == HostTime.latestMs)
        #expect(HostTime.deadline(5, plus: UInt64(20)) == 25)
    }

    @Test func elapsedNeverTraps() {
        #expect(HostTime.elapsed(from: 1000, to: 4000) == 3000)
        #expect(HostTime.elapsed(from: 4000, to: 1000) == -3000)
        #expect(HostTime.elapsed(from: .min, to: .max) == .max)
        #expect(HostTime.elapsed(from: .max, to: .min) == .min)
        #expect(HostTime.elapsed(from: HostTime.latestMs, to: 0) == -HostTime.latestMs)
    }

    @Test func clampedMovesIntoTheRange() {
        #expect(HostTime.clamped(-5) == 0)
        #expect(HostTime.clamped(.max) == HostTime.latestMs)
        #expect(HostTime.clamped(42) == 42)
    }
}
