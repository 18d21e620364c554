import CModHost
import Foundation
import ModHostPluginSDK
import Testing

/// A plugin using what ABI 1.2 added, through the SDK.
final class Modern: Plugin, Sendable {
    static let id = "modern"
    static let version = "1.2.0"

    let host: PluginHost

    init(host: PluginHost, config: RawJSON) {
        self.host = host
    }

    static func register(_ methods: inout Methods<Modern>) {
        methods.add("whoAsked") { _ in CallInfo.current?.clientID }
        methods.add("timeLeft") { _ in CallInfo.current?.remaining.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 } }
        methods.add("asyncWhoAsked") { (_: Modern) async throws -> UInt64? in
            await Task.yield()  // a suspension point: the task-local binding must survive it
            return CallInfo.current?.clientID
        }
        methods.add("shadow") { modern in modern.host.isShadow }
        methods.add("hostABI") { modern in modern.host.hostABIVersion }
        methods.add("callWithDeadline", params: ["ms"]) { (modern, p: [String: Int]) in
            try modern.host.call("other.work", deadline: .milliseconds(p["ms"] ?? 0)) { _ in }
        }
        methods.add("plainCall") { modern in try modern.host.call("other.work") { _ in } }
        methods.add("notify", params: ["client"]) { (modern, p: [String: UInt64]) in
            try modern.host.notify(client: p["client"] ?? 0, "node.task_assign", ["task": 7])
        }
    }
}

/// The SDK applies the header's minor-version policy: any 1.x host will do; what a later minor
/// added works on a host that has it and fails clearly on one that does not.
@Suite struct ABIPolicyTests {
    static let v11InfoSize = MemoryLayout<mh_init_info>.offset(of: \mh_init_info.flags)!

    @Test func servicesOf12WorkOnA12Host() async throws {
        let harness = PluginHarness(entry: Modern.pluginEntry())
        #expect(harness.instance != nil)
        #expect(harness.outcome("hostABI") == .result(#""1.2""#))
        #expect(harness.outcome("whoAsked") == .result("1"))
        #expect(harness.outcome("timeLeft") == .result("1234"))
        let (status, call) = harness.call("asyncWhoAsked")
        #expect(status == MH_PENDING)
        #expect(try await call.completion() == .result("1"))  // the handler's task inherits CallInfo
        #expect(CallInfo.current == nil)
        #expect(harness.outcome("callWithDeadline", "[1500]") == .result("null"))
        #expect(harness.outcome("plainCall") == .result("null"))
        #expect(harness.host.state.withLock { $0.replies.map(\.deadlineMs) } == [1500, nil])
        #expect(harness.outcome("notify", "[1]") == .result("true"))
        #expect(harness.outcome("notify", "[9]") == .result("false"))  // no such client: not an error
        #expect(harness.host.state.withLock { $0.notified.map { "\($0.client) \($0.topic) \($0.data ?? "")" } }
            == [#"1 node.task_assign {"task":7}"#])
        #expect(harness.outcome("shadow") == .result("false"))
    }

    @Test func theShadowFlagReachesThePlugin() {
        let harness = PluginHarness(entry: Modern.pluginEntry(), infoFlags: UInt64(MH_INIT_SHADOW))
        #expect(harness.outcome("shadow") == .result("true"))
    }

    /// A plugin built against 1.2 on a 1.1 host: it loads (the SDK used to refuse an older
    /// minor), the 1.0 and 1.1 services work, the 1.2 ones fail naming both versions, and
    /// nothing is read past the host's structs (the flag bit beyond the 1.1 init info is unseen).
    @Test func aPluginBuiltAgainst12RunsOnA11Host() {
        let harness = PluginHarness(entry: Modern.pluginEntry(), host: FakeHost(minor: 1), infoSize: Self.v11InfoSize,
                                    infoFlags: UInt64(MH_INIT_SHADOW))
        #expect(harness.instance != nil, "\(harness.initError)")
        #expect(harness.outcome("hostABI") == .result(#""1.1""#))
        #expect(harness.outcome("shadow") == .result("false"))
        #expect(harness.outcome("whoAsked") == .result("null"))
        #expect(harness.outcome("timeLeft") == .result("null"))
        #expect(harness.outcome("plainCall") == .result("null"))
        #expect(harness.outcome("callWithDeadline", "[1500]") == .error(
            code: -32603, message: "call other.work with a deadline (call_v2) needs a host with ABI 1.2; this host speaks ABI 1.1",
            data: nil))
        #expect(harness.outcome("notify", "[1]") == .error(
            code: -32603, message: "notify(client:) needs a host with ABI 1.2; this host speaks ABI 1.1", data: nil))
        #expect(harness.host.state.withLock { $0.replies.map(\.deadlineMs) } == [nil])
    }

    @Test func aHostTableWithout10FieldsIsRefused() {
        let harness = PluginHarness(entry: Modern.pluginEntry(), host: FakeHost(minor: 0, tableSize: 64))
        #expect(harness.instance == nil)
        #expect(harness.initError == "host ABI 1.0 (init info \(MemoryLayout<mh_init_info>.size) bytes, host table 64 bytes) lacks what every ABI 1.x host has; the plugin is built against ABI 1.2")
    }

    @Test func deadlinesOutsideOneMillisecondTo24HoursAreRefused() {
        let harness = PluginHarness(entry: Modern.pluginEntry())
        #expect(harness.outcome("callWithDeadline", "[0]") == .error(
            code: -32603, message: "call other.work: the deadline must be positive, got 0.0 seconds", data: nil))
        #expect(harness.outcome("callWithDeadline", "[86400001]") == .error(
            code: -32603, message: "call other.work: the deadline 86400.001 seconds is over the limit of 24 h (MH_MAX_DEADLINE_MS)", data: nil))
        #expect(harness.outcome("callWithDeadline", "[86400000]") == .result("null"))
        #expect(harness.host.state.withLock { $0.replies.map(\.deadlineMs) } == [86_400_000])
    }
}
