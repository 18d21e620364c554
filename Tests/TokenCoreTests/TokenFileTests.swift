import Foundation
import ModHostJSON
import Testing
@testable import TokenCore

/// Reading token files in both spellings and every expiry form, and the write-back that keeps
/// the file's style and unknown keys.
@Suite struct TokenFileTests {
    private func parse(_ text: String, _ name: String = "qwen-oauth-1-default.json") throws -> TokenRecord {
        try TokenFile.parse(Array(text.utf8), fileName: name)
    }

    @Test func theNamingGivesProviderSeqAndAlias() {
        let name = TokenName(fileName: "qwen-oauth-12-my-alias.json")
        #expect(name?.provider == "qwen" && name?.seq == 12 && name?.alias == "my-alias" && name?.id == "qwen-oauth-12-my-alias")
        #expect(TokenName(fileName: "plain.json")?.provider == nil)
        for skipped in [".qwen.json", "a.bak.json", "a.json.bak", "a.tmp.json", "a.txt", ".json"] { #expect(TokenName(fileName: skipped) == nil) }
    }

    @Test func expiryForms() throws {
        #expect(try parse(#"{"access_token":"a","expires_at":1767225600}"#).expiresAtMs == 1_767_225_600_000)
        #expect(try parse(#"{"access_token":"a","expires_at":1767225600}"#).style.expiryUnit == .seconds)
        #expect(try parse(#"{"accessToken":"a","expiresAt":1767225600123}"#).expiresAtMs == 1_767_225_600_123)
        #expect(try parse(#"{"access_token":"a","expiry_date":"2026-01-01T01:00:00+01:00"}"#).expiresAtMs == 1_767_225_600_000)
        #expect(try parse(#"{"access_token":"a","expired":"2026-01-01T00:00:00.5Z"}"#).style.expiryUnit == .rfc3339)
        #expect(try parse(#"{"access_token":"a","expiry":"1767225600"}"#).expiresAtMs == 1_767_225_600_000)
        #expect(throws: TokenFileError.self) { try parse(#"{"access_token":"a","expires_at":"soon"}"#) }
        #expect(throws: TokenFileError.self) { try parse(#"{"access_token":7}"#) }
        #expect(throws: TokenFileError.self) { try parse("[1]") }
    }

    @Test func bothSpellings() throws {
        let snake = try parse(#"{"access_token":"a","refresh_token":"r","api_key":"k","norefresh":true,"token_endpoint":"https://x/t","client_id":"c","client_secret":"s"}"#)
        #expect(snake.style.snakeCase && snake.refreshToken == "r" && snake.apiKey == "k" && snake.noRefresh && snake.clientSecret == "s")
        let camel = try parse(#"{"accessToken":"a","refreshToken":"r","apiKey":"k","noRefresh":true,"tokenEndpoint":"https://x/t","clientId":"c"}"#)
        #expect(!camel.style.snakeCase && camel.refreshToken == "r" && camel.noRefresh && camel.clientId == "c")
        #expect(camel.provider == "qwen" && camel.seq == 1 && camel.alias == "default")
    }

    @Test func theWriteBackKeepsStyleUnitAndUnknownKeys() throws {
        let record = try parse(#"{"accessToken":"old","refreshToken":"r0","expiresAt":1767225600,"email":"a@b","nested":{"k":[1,2]}}"#)
        let (bytes, reread) = TokenFile.rewrite(record, with: RefreshedFields(accessToken: "new", refreshToken: "r1", expiresAtMs: 1_767_229_200_000),
                                                fileName: "qwen-oauth-1-default.json")
        let json = try JSONValue(parsing: bytes)
        #expect(json == ["accessToken": "new", "refreshToken": "r1", "expiresAt": 1_767_229_200, "email": "a@b", "nested": ["k": [1, 2]]])
        #expect(reread.expiresAtMs == 1_767_229_200_000 && reread.accessToken == "new")
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("{\n  \"accessToken\": \"new\",\n"))

        let rfc = try parse(#"{"access_token":"old","expiry_date":"2026-01-01T00:00:00Z"}"#)
        let rewritten = TokenFile.rewrite(rfc, with: RefreshedFields(accessToken: "new", expiresAtMs: 1_767_229_200_500), fileName: "q.json")
        #expect(try JSONValue(parsing: rewritten.bytes)["expiry_date"] == "2026-01-01T01:00:00.500Z")

        let unknown = TokenFile.rewrite(rfc, with: RefreshedFields(accessToken: "new", expiresAtMs: nil), fileName: "q.json")
        #expect(try JSONValue(parsing: unknown.bytes)["expiry_date"] == .null && unknown.record.expiresAtMs == nil)
        #expect(try JSONValue(parsing: unknown.bytes)["access_token"] == "new")
    }
}
