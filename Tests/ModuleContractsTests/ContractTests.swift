import Foundation
import ModuleContracts
import Testing

/// The payloads modules exchange read what MODULES.md says producers send, and say what is
/// wrong with what they do not.
@Suite struct ContractTests {
    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    @Test func tokenEventsNameTheirKeysAsAListOrOneKey() throws {
        let event = try decode(TokenEvent.self, #"{"id":"openai-oauth-1-main","provider":"openai","alias":"main","seq":1,"providerKeys":["openai.main","openai.1"],"expiresAt":1767229200000}"#)
        #expect(event == TokenEvent(id: "openai-oauth-1-main", provider: "openai", alias: "main", seq: 1,
                                    providerKeys: ["openai.main", "openai.1"], expiresAt: 1_767_229_200_000))
        #expect(try decode(TokenEvent.self, #"{"providerKey":"openai.main"}"#).providerKeys == ["openai.main"])
        #expect(throws: DecodingError.self) { try decode(TokenEvent.self, #"{"id":"x"}"#) }
        #expect(throws: DecodingError.self) { try decode(TokenEvent.self, #"{"providerKeys":[]}"#) }
        let again = try decode(TokenEvent.self, String(decoding: try JSONEncoder().encode(event), as: UTF8.self))
        #expect(again == event)
    }

    @Test func providerErrorsReadStatusAndRetryAfterInTheirForms() throws {
        let error = try decode(ProviderError.self, #"{"providerKey":"k","status":429,"retryAfter":"Sun, 06 Nov 1994 08:49:37 GMT"}"#)
        #expect(error.status == 429 && error.retryAfter == .text("Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(try decode(ProviderError.self, #"{"providerKey":"k","retryAfter":1.5}"#).retryAfter == .seconds(1.5))
        #expect(try decode(ProviderError.self, #"{"providerKey":"k","status":null}"#).status == nil)
    }

    @Test(arguments: [
        (#"{"providerKey":"k","status":"429"}"#, "status must be an integer, found a string"),
        (#"{"providerKey":"k","status":429.5}"#, "status 429.5 is not an integer"),
        (#"{"providerKey":"k","retryAfter":true}"#, "retryAfter must be a number of seconds or a string"),
    ])
    func badShapesSayWhatIsWrong(_ json: String, _ message: String) {
        do {
            _ = try decode(ProviderError.self, json)
            Issue.record("\(json) decoded")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.hasPrefix(message), "\(context.debugDescription)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func topicsAreSpelledAsMODULESmdSpellsThem() {
        #expect([Topic.providerError, Topic.providerSuccess, Topic.tokenRefreshed, Topic.tokenReauthRequired]
                    == ["provider.error", "provider.success", "token.refreshed", "token.reauth_required"])
        #expect([Topic.healthCooldown, Topic.healthSeriesTripped, Topic.hostClientDisconnected]
                    == ["health.cooldown", "health.series_tripped", "host.client_disconnected"])
    }
}
