import ModHostTestKit
import Testing

/// Events in and out of the health module, through the real host and libHealth.so: the channel
/// subscribes to `health.*` and sees the transitions; `provider.*` and `token.*` events published
/// with `events.publish` act like the calls. (An event reaches the module's queue before
/// `events.publish` answers, so a call sent after it sees its effect.)
@Suite struct HealthEventTests {
    private typealias B = HealthBench
    private let t0 = HealthBench.start

    private func benchSubscribed() throws -> HealthBench {
        let bench = try HealthBench()
        #expect(try bench.host.call("events.subscribe", ["topics": ["health.*"]])["subscribed"] == ["health.*"])
        return bench
    }

    /// Publishes `topic` with `data`; the health module is its one subscriber.
    private func publish(_ bench: HealthBench, _ topic: String, _ data: JSON, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try bench.host.call("events.publish", ["topic": .string(topic), "data": data])
        #expect(result["subscribers"] == 1, "health should subscribe to \(topic): \(result)", sourceLocation: sourceLocation)
    }

    // MARK: Emitted

    @Test func cooldownOpenedAndRecoveredArePublished() throws {
        let bench = try benchSubscribed()
        let (cooldown, result) = try bench.host.callPublishing(
            "health.cooldown", "health.report", ["providerKey": "a", "status": 429, "retryAfter": 60])
        #expect(result["untilMs"] == .int(t0 + 60 * B.second))
        #expect(cooldown["data"]["providerKey"] == "a", "\(cooldown)")
        #expect(cooldown["data"]["untilMs"] == .int(t0 + 60 * B.second), "\(cooldown)")
        #expect(cooldown["data"]["reason"] == "rate_limit", "\(cooldown)")

        try bench.report("b", status: 500, times: 2)
        let (opened, _) = try bench.host.callPublishing("health.opened", "health.report", ["providerKey": "b", "status": 500])
        #expect(opened["data"] == ["providerKey": "b", "untilMs": .int(t0 + 30 * B.second), "trips": 1], "\(opened)")

        try bench.at(t0 + 30 * B.second)
        #expect(try bench.isAvailable("b"))  // the probe
        let (reopened, _) = try bench.host.callPublishing("health.opened", "health.report", ["providerKey": "b", "status": 503])
        #expect(reopened["data"] == ["providerKey": "b", "untilMs": .int(t0 + 90 * B.second), "trips": 2], "\(reopened)")

        try bench.at(t0 + 90 * B.second)
        #expect(try bench.isAvailable("b"))
        let (recovered, _) = try bench.host.callPublishing("health.recovered", "health.reportSuccess", ["providerKey": "b"])
        #expect(recovered["data"]["providerKey"] == "b", "\(recovered)")
    }

    /// A key below the circuit threshold changes no state: no event.
    @Test func aCountedErrorPublishesNothing() throws {
        let bench = try benchSubscribed()
        try bench.report("b", status: 500, times: 2)
        try bench.report("c", ["status": 429, "retryAfter": 5])  // sentinel: this one does publish
        let first = try bench.host.nextEvent(topic: nil)
        #expect(first["topic"] == "health.cooldown" && first["data"]["providerKey"] == "c", "\(first)")
    }

    // MARK: Consumed

    @Test func providerErrorAndSuccessEventsActLikeReports() throws {
        let bench = try benchSubscribed()
        try publish(bench, "provider.error", ["providerKey": "a", "status": 429, "retryAfter": "30"])
        let cooldown = try bench.host.nextEvent(topic: "health.cooldown")
        #expect(cooldown["data"]["providerKey"] == "a" && cooldown["data"]["untilMs"] == .int(t0 + 30 * B.second), "\(cooldown)")
        try bench.expect("a", "cooldown", until: t0 + 30 * B.second)

        for _ in 1...3 { try publish(bench, "provider.error", ["providerKey": "b", "errorClass": "network"]) }
        let opened = try bench.host.nextEvent(topic: "health.opened")
        #expect(opened["data"]["providerKey"] == "b" && opened["data"]["trips"] == 1, "\(opened)")
        try bench.expect("b", "open", until: t0 + 30 * B.second)

        try bench.at(t0 + 30 * B.second)
        #expect(try bench.isAvailable("b"))
        try publish(bench, "provider.success", ["providerKey": "b"])
        #expect(try bench.host.nextEvent(topic: "health.recovered")["data"]["providerKey"] == "b")
        try bench.expect("b", "healthy", until: nil)
    }

    /// A malformed provider.error is dropped: it changes nothing and the module serves on.
    @Test func malformedProviderErrorEventIsIgnored() throws {
        let bench = try benchSubscribed()
        try publish(bench, "provider.error", ["providerKey": "", "status": 429])
        try publish(bench, "provider.error", ["providerKey": "a", "status": 9000])
        try publish(bench, "provider.error", "not an object")
        try bench.expect("a", "healthy", until: nil)
        let stored = try bench.allStatuses()
        #expect(stored.isEmpty, "\(stored)")
    }

    @Test func reauthRequiredBlacklistsUntilTheTokenIsRefreshed() throws {
        let bench = try benchSubscribed()
        try publish(bench, "token.reauth_required", ["providerKey": "a"])
        try bench.expect("a", "blacklisted", until: nil)
        try bench.at(t0 + 30 * B.day)
        try bench.expect("a", "blacklisted", until: nil)
        let out = try bench.available(["a"])
        #expect(out["unavailable"][0]["state"] == "blacklisted" && out["earliestRecoveryMs"] == .null, "\(out)")

        try publish(bench, "token.refreshed", ["providerKey": "a"])
        try bench.expect("a", "healthy", until: nil)
    }

    /// A success does not lift it: the call may have begun before the token was revoked.
    @Test func reauthRequiredIsNotLiftedByASuccess() throws {
        let bench = try benchSubscribed()
        try publish(bench, "token.reauth_required", ["providerKey": "a"])
        try bench.expect("a", "blacklisted", until: nil)
        #expect(try bench.reportSuccess("a")["state"] == "blacklisted")
        try publish(bench, "token.refreshed", ["providerKey": "a"])
        try bench.expect("a", "healthy", until: nil)
    }

    /// Token events name every key the token serves (MODULES.md): each is blocked, each lifted.
    @Test func tokenEventsActOnEachOfTheirProviderKeys() throws {
        let bench = try benchSubscribed()
        let token: JSON = ["id": "openai-oauth-1-main", "provider": "openai", "alias": "main", "seq": 1,
                           "providerKeys": ["openai.main", "openai.1"]]
        try publish(bench, "token.reauth_required", token)
        try bench.expect("openai.main", "blacklisted", until: nil)
        try bench.expect("openai.1", "blacklisted", until: nil)
        try bench.expect("openai.other", "healthy", until: nil)
        try publish(bench, "token.refreshed", token)
        try bench.expect("openai.main", "healthy", until: nil)
        try bench.expect("openai.1", "healthy", until: nil)
    }

    /// A token event with one malformed key is refused whole: no key of it changes.
    @Test func aTokenEventWithABadKeyChangesNothing() throws {
        let bench = try benchSubscribed()
        try publish(bench, "token.reauth_required", ["providerKeys": ["openai.main", ""]])
        try bench.host.waitForStderr(containing: "ignoring token.reauth_required event")
        try bench.expect("openai.main", "healthy", until: nil)
    }

    /// A 401 blacklist is the same blacklist: token.refreshed lifts it.
    @Test func tokenRefreshedLiftsA401Blacklist() throws {
        let bench = try benchSubscribed()
        try bench.report("a", ["status": 401])
        try bench.report("b", ["status": 403])
        try publish(bench, "token.refreshed", ["providerKey": "a"])
        try bench.expect("a", "healthy", until: nil)
        try bench.expect("b", "blacklisted", until: nil)
    }
}
