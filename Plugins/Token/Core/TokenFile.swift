import Foundation
import ModHostJSON
import ModHostSupport
import ModuleSupport

/// Reading a token file: bytes in, a `TokenRecord` (or the reason it is not one) out. Pure.
public enum TokenFile {
    /// Token files larger than this are refused (a real one is well under 4 KiB).
    public static let maxBytes = 256 * 1024

    /// The spellings of each field: upstream snake_case first, then camelCase.
    static let expiryKeys = ["expires_at", "expiresAt", "expired", "expiry_date", "expiry"]
    static let snakeKeys: Set<String> = ["access_token", "refresh_token", "expires_at", "expiry_date", "api_key", "token_endpoint",
                                         "client_id", "client_secret", "token_type"]
    static let camelKeys: Set<String> = ["accessToken", "refreshToken", "expiresAt", "expiryDate", "apiKey", "tokenEndpoint",
                                         "clientId", "clientSecret", "tokenType", "noRefresh"]

    /// Parses `bytes`, the file `fileName`. The name gives provider, seq and alias when the
    /// fields are absent.
    /// - Throws: `TokenFileError` saying what is wrong, in words fit for `reason`.
    public static func parse(_ bytes: [UInt8], fileName: String) throws(TokenFileError) -> TokenRecord {
        guard bytes.count <= maxBytes else { throw TokenFileError("\(fileName) is \(bytes.count) bytes, over the limit of \(maxBytes)") }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw TokenFileError("\(fileName) is not valid JSON: \(error)")
        }
        guard case .object(let json) = value else { throw TokenFileError("\(fileName) holds \(value.kindDescription), not a JSON object") }
        var record = TokenRecord(json: json)
        let snake = json.keys.contains { snakeKeys.contains($0) }
        let camel = json.keys.contains { camelKeys.contains($0) }
        record.style.snakeCase = snake || !camel
        record.accessToken = try string(json, "access_token", "accessToken", fileName)
        record.refreshToken = try string(json, "refresh_token", "refreshToken", fileName)
        record.apiKey = try string(json, "api_key", "apiKey", fileName)
        record.tokenEndpoint = try string(json, "token_endpoint", "tokenEndpoint", fileName)
        record.clientId = try string(json, "client_id", "clientId", fileName)
        record.clientSecret = try string(json, "client_secret", "clientSecret", fileName)
        record.scope = try string(json, "scope", "scope", fileName)
        record.tokenType = try string(json, "token_type", "tokenType", fileName)
        record.provider = try string(json, "provider", "provider", fileName)
        record.alias = try string(json, "alias", "alias", fileName)
        record.noRefresh = json["norefresh"]?.bool ?? json["noRefresh"]?.bool ?? false
        if let seq = json["seq"] {
            guard let number = seq.int, number >= 0, number <= Int64(Int32.max) else {
                throw TokenFileError("\(fileName): seq must be a non-negative integer")
            }
            record.seq = Int(number)
        }
        if let keys = json["providerKeys"], !keys.isNull {
            guard let list = keys.array, !list.isEmpty, list.allSatisfy({ ($0.string ?? "").isEmpty == false }) else {
                throw TokenFileError("\(fileName): providerKeys must be a non-empty array of non-empty strings")
            }
            record.providerKeys = list.compactMap(\.string)
        }
        try readExpiry(json, into: &record, fileName)
        let name = TokenName(fileName: fileName)
        record.provider = record.provider ?? name?.provider
        record.alias = record.alias ?? name?.alias
        record.seq = record.seq ?? name?.seq
        return record
    }

    private static func string(_ json: [String: JSONValue], _ snake: String, _ camel: String, _ fileName: String) throws(TokenFileError) -> String? {
        for key in snake == camel ? [snake] : [snake, camel] {
            guard let value = json[key], !value.isNull else { continue }
            guard let text = value.string else { throw TokenFileError("\(fileName): \(key) must be a string, found \(value.kindDescription)") }
            return text.isEmpty ? nil : text
        }
        return nil
    }

    /// The first expiry key present: a number below 1e11 is epoch seconds, else ms; a string is
    /// RFC 3339 (a string of digits is read as the number it spells).
    private static func readExpiry(_ json: [String: JSONValue], into record: inout TokenRecord, _ fileName: String) throws(TokenFileError) {
        for key in expiryKeys {
            guard let value = json[key], !value.isNull else { continue }
            record.style.expiryKey = key
            if let number = value.double {
                try epoch(number, key: key, into: &record, fileName)
            } else if let text = value.string {
                if let number = Double(text.trimmingCharacters(in: .whitespaces)), text.allSatisfy({ $0.isNumber || $0 == "." || $0 == " " }) {
                    try epoch(number, key: key, into: &record, fileName)
                } else if let ms = ISO8601Time.epochMs(text, nowMs: 0, timeZone: TimeZone(identifier: "UTC")!), text.count >= 19 {
                    record.style.expiryUnit = .rfc3339
                    record.expiresAtMs = ms
                } else {
                    throw TokenFileError("\(fileName): \(key) \(LogText.quote(text)) is not an RFC 3339 time nor epoch seconds or ms")
                }
            } else {
                throw TokenFileError("\(fileName): \(key) must be a number (epoch s or ms) or an RFC 3339 string, found \(value.kindDescription)")
            }
            return
        }
    }

    private static func epoch(_ number: Double, key: String, into record: inout TokenRecord, _ fileName: String) throws(TokenFileError) {
        guard number.isFinite, number >= 0, number < 1e15 else { throw TokenFileError("\(fileName): \(key) \(number) is not a time") }
        if number < 1e11 {
            record.style.expiryUnit = .seconds
            record.expiresAtMs = Int64((number * 1000).rounded())
        } else {
            record.style.expiryUnit = .milliseconds
            record.expiresAtMs = Int64(number.rounded())
        }
    }
}

/// Why a token file is not usable, fit for `token.status`'s `reason`.
public struct TokenFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
