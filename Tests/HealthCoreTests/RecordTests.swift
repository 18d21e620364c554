import Foundation
@testable import HealthCore
import Testing

/// The fast reader for stored records (`KeyEntry.fromRecord`) reads exactly what `JSONDecoder`
/// reads from what `JSONEncoder` writes, and declines (nil: the caller falls back) anything else.
@Suite struct RecordTests {
    /// Entries in every state, with awkward keys.
    private func entries() throws -> [KeyEntry] {
        let bench = try Bench { try $0.series.add("claude", ["claude.k1", "claude.k2"]) }
        let keys = ["plain", "quo\"te", "back\\slash", "new\nline", "tab\there", "é日本🙂", "\u{1}ctl", "slash/ok"]
        for key in keys { try bench.report(key, status: 429, retryAfter: .seconds(60), at: t0) }
        try bench.report("chain", status: 429, at: t0)
        for _ in 1...3 { try bench.report("srv", status: 500, at: t0) }
        _ = bench.available(["srv"], at: t0 + 31 * second)  // probe out
        for _ in 1...3 { try bench.report("net", errorClass: .network, at: t0) }
        try bench.report("auth", status: 401, at: t0)
        try bench.report("quota", errorClass: .quota, body: #"{"resetAt": "2026-01-01T17:00:00Z"}"#, at: t0)
        try bench.report("claude.k1", errorClass: .seriesQuota, at: t0)
        try bench.report("flaky", errorClass: .server, at: t0)
        return bench.engine.exportState().entries
    }

    @Test func readsWhatJSONDecoderReads() throws {
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        let all = try entries()
        #expect(all.count >= 15)
        for entry in all {
            for encoded in [try encoder.encode(entry), try { encoder.outputFormatting = [.sortedKeys, .prettyPrinted]; return try encoder.encode(entry) }()] {
                let fast = encoded.withUnsafeBytes { KeyEntry.fromRecord($0) }
                #expect(fast == (try decoder.decode(KeyEntry.self, from: encoded)), "\(String(decoding: encoded, as: UTF8.self))")
            }
            encoder.outputFormatting = []
        }
    }

    @Test func readsEscapesAndNulls() throws {
        let json = #"""
            {"providerKey":"a\"b\\c\/d\u00e9\ud83d\ude42\n","series":null,"cooldownUntilMs":1767225660000,
             "authBlocked":false,"persisted":true,"state":"cooldown",
             "circuit":{"phase":"closed","trips":0,"consecutiveFailures":0,"cause":null},
             "backoff":{"step":2,"lastErrorAtMs":1767225600000},
             "consecutiveErrors":{"rate_limit":2},"lastError":null}
            """#
        let data = Data(json.utf8)
        let fast = try #require(data.withUnsafeBytes { KeyEntry.fromRecord($0) })
        #expect(fast == (try JSONDecoder().decode(KeyEntry.self, from: data)))
        #expect(fast.providerKey == "a\"b\\c/dé🙂\n")
        #expect(fast.backoff.step == 2 && fast.consecutiveErrors[.rateLimit] == 2)
    }

    /// A field the fast reader does not know (one added to `KeyEntry` later, say) sends the
    /// record to `JSONDecoder`, which reads it: nothing is silently dropped on the fast path.
    @Test(arguments: [#""extra":{"x":[1,2.5e3,true,null,"s"]}"#, #""circuit":{"phase":"closed","trips":0,"consecutiveFailures":0,"later":1}"#,
                      #""consecutiveErrors":{"rate_limit":2,"someday":7}"#])
    func anUnknownFieldIsLeftToJSONDecoder(_ member: String) throws {
        var members = [#""providerKey":"k""#, #""authBlocked":false"#, #""persisted":true"#, #""state":"cooldown""#,
                       #""circuit":{"phase":"closed","trips":0,"consecutiveFailures":0}"#, #""backoff":{"step":0}"#,
                       #""consecutiveErrors":{}"#]
        let name = member.prefix { $0 != ":" }
        members.removeAll { $0.hasPrefix(name) }
        let data = Data(("{" + (members + [member]).joined(separator: ",") + "}").utf8)
        #expect(data.withUnsafeBytes { KeyEntry.fromRecord($0) } == nil)
        #expect((try? JSONDecoder().decode(KeyEntry.self, from: data)) != nil)
    }

    @Test(arguments: [
        "", "null", "[]", "{}", #"{"providerKey":"k"}"#,  // required fields missing
        #"{"providerKey":"k","authBlocked":false,"persisted":true,"state":"cooldown","circuit":{"phase":"closed","trips":0,"consecutiveFailures":0},"backoff":{"step":0},"consecutiveErrors":{},"cooldownUntilMs":1.5}"#,
        #"{"providerKey":"k","authBlocked":false,"persisted":true,"state":"sleepy","circuit":{"phase":"closed","trips":0,"consecutiveFailures":0},"backoff":{"step":0},"consecutiveErrors":{}}"#,
        #"{"providerKey":"k","authBlocked":false,"persisted":true,"state":"cooldown","circuit":{"phase":"closed","trips":0,"consecutiveFailures":0},"backoff":{"step":0},"consecutiveErrors":{}} x"#,
        #"{"providerKey":"\ud800","authBlocked":false}"#, "{\"providerKey\":\"a\u{1}b\"}", #"{"providerKey":"k","#,
        #"{"providerKey":"k","authBlocked":false,"persisted":true,"state":"cooldown","circuit":{"phase":"closed","trips":0,"consecutiveFailures":0},"backoff":{"step":0},"consecutiveErrors":{},"quotaUntilMs":99999999999999999999}"#,
    ])
    func declinesWhatItDoesNotExpect(_ json: String) {
        #expect(Data(json.utf8).withUnsafeBytes { KeyEntry.fromRecord($0) } == nil, "\(json)")
    }

    @Test func invalidUTF8IsDeclined() {
        var bytes = Array(#"{"providerKey":"k"#.utf8)
        bytes += [0xFF, 0x22, 0x7D]
        #expect(bytes.withUnsafeBytes { KeyEntry.fromRecord($0) } == nil)
    }

    @Test func seriesTripRecords() throws {
        let trip = SeriesTrip(series: "claude \"x\"", untilMs: t0 + minute, reason: "share")
        let data = try JSONEncoder().encode(trip)
        #expect(data.withUnsafeBytes { SeriesTrip.fromRecord($0) } == trip)
        #expect(Data(#"{"series":"s","untilMs":"soon","reason":"share"}"#.utf8).withUnsafeBytes { SeriesTrip.fromRecord($0) } == nil)
    }
}
