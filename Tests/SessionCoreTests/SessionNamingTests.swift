import ModuleSupport
import SessionCore
import Testing

@Suite struct SessionNamingTests {
    @Test func timesAreWrittenAsChronosRFC3339AndNamedAsOmnishNamesDirectories() {
        #expect(SessionTime.rfc3339(ms: 1_767_225_600_000) == "2026-01-01T00:00:00+00:00")
        #expect(SessionTime.rfc3339(ms: 1_709_210_096_789) == "2024-02-29T12:34:56.789+00:00")
        #expect(SessionTime.rfc3339(ms: 0) == "1970-01-01T00:00:00+00:00")
        #expect(SessionTime.directoryName(startedAt: "2024-02-29T12:34:56.789+00:00", sessionId: "a1") == "2024-02-29T12-34-56.789+00-00_a1")
        #expect(SessionTime.epochMs("2024-02-29T12:34:56.789+00:00") == 1_709_210_096_789)
        // omnish's own writer (chrono, nanoseconds) reads back too.
        #expect(SessionTime.epochMs("2024-02-29T12:34:56.789123456+00:00") == 1_709_210_096_789)
    }

    @Test func idsAreCheckedBeforeAnyPath() {
        for good in ["a", "A-b_c.9", String(repeating: "z", count: 128)] { #expect(throws: Never.self) { try SessionID.check(good) } }
        for bad in ["", ".", "..", ".x", "a/b", "a\\b", "a\u{0}", "a b", "é", "a\u{FF0F}b", String(repeating: "z", count: 129)] {
            #expect(throws: ModuleFailure.self, "\(bad.debugDescription)") { try SessionID.check(bad) }
        }
    }
}
