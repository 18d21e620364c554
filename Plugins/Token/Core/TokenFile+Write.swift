import Foundation
import ModHostJSON

/// What a refresh changes in a token file.
public struct RefreshedFields: Sendable, Equatable {
    public var accessToken: String
    /// A rotated refresh token; nil keeps the file's.
    public var refreshToken: String?
    /// nil: the server gave no `expires_in`, so the expiry is unknown (the field is removed).
    public var expiresAtMs: Int64?
    public var tokenType: String?
    public var scope: String?

    public init(accessToken: String, refreshToken: String? = nil, expiresAtMs: Int64? = nil, tokenType: String? = nil, scope: String? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAtMs = expiresAtMs
        self.tokenType = tokenType
        self.scope = scope
    }
}

extension TokenFile {
    /// The file after a refresh, as bytes, and the record they read back as: the file's own
    /// keys (snake_case or camelCase), its expiry in the field and unit it used, and every key
    /// the module does not know, kept. Written pretty-printed with sorted keys (two spaces),
    /// ending in a newline.
    public static func rewrite(_ record: TokenRecord, with fields: RefreshedFields, fileName: String) -> (bytes: [UInt8], record: TokenRecord) {
        var json = record.json
        let style = record.style
        // The key the file used for a field, or the style's spelling for a new one.
        func key(_ snake: String, _ camel: String) -> String {
            if json[snake] != nil { return snake }
            if json[camel] != nil { return camel }
            return style.key(snake: snake, camel: camel)
        }
        json[key("access_token", "accessToken")] = .string(fields.accessToken)
        if let rotated = fields.refreshToken { json[key("refresh_token", "refreshToken")] = .string(rotated) }
        let expiryKey = style.expiryKey ?? style.key(snake: "expires_at", camel: "expiresAt")
        if let expiresAt = fields.expiresAtMs {
            json[expiryKey] = expiryValue(expiresAt, unit: style.expiryKey == nil ? .milliseconds : style.expiryUnit)
        } else {
            for key in expiryKeys { json[key] = nil }
        }
        if let type = fields.tokenType { json[key("token_type", "tokenType")] = .string(type) }
        if let scope = fields.scope, json["scope"] != nil { json["scope"] = .string(scope) }
        var bytes: [UInt8] = []
        writePretty(.object(json), indent: 0, to: &bytes)
        bytes.append(0x0A)
        let reread = (try? parse(bytes, fileName: fileName)) ?? record
        return (bytes, reread)
    }

    static func expiryValue(_ ms: Int64, unit: TokenFileStyle.ExpiryUnit) -> JSONValue {
        switch unit {
        case .seconds: return .int(ms / 1000)
        case .milliseconds: return .int(ms)
        case .rfc3339: return .string(rfc3339(ms))
        }
    }

    /// `2026-01-01T00:30:00Z`, with `.SSS` when the ms are not zero.
    public static func rfc3339(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = ms % 1000 == 0 ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// JSON with two-space indentation and sorted keys, like the files other tools write.
    static func writePretty(_ value: JSONValue, indent: Int, to out: inout [UInt8]) {
        func pad(_ level: Int) { out.append(contentsOf: repeatElement(0x20, count: level * 2)) }
        switch value {
        case .object(let members) where !members.isEmpty:
            out.append(0x7B)
            for (index, key) in members.keys.sorted().enumerated() {
                out.append(contentsOf: index == 0 ? [0x0A] : [0x2C, 0x0A])
                pad(indent + 1)
                JSONValue.string(key).write(to: &out)
                out.append(contentsOf: [0x3A, 0x20])
                writePretty(members[key]!, indent: indent + 1, to: &out)
            }
            out.append(0x0A)
            pad(indent)
            out.append(0x7D)
        case .array(let elements) where !elements.isEmpty:
            out.append(0x5B)
            for (index, element) in elements.enumerated() {
                out.append(contentsOf: index == 0 ? [0x0A] : [0x2C, 0x0A])
                pad(indent + 1)
                writePretty(element, indent: indent + 1, to: &out)
            }
            out.append(0x0A)
            pad(indent)
            out.append(0x5D)
        default:
            value.write(to: &out)
        }
    }
}
