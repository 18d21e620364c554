import Foundation

/// An RFC 6749 §6 refresh request, as plain values for the plugin to send: a form-encoded POST
/// of `grant_type=refresh_token&refresh_token=…` (and `scope` when the token file gives one),
/// the client authenticated with HTTP Basic when there is a secret (§2.3.1: id and secret each
/// form-encoded, then base64), else `client_id` in the body; `Accept: application/json`.
public struct OAuthRequest: Sendable, Equatable {
    public var url: String
    /// Header name → value, in a fixed order for tests.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public static func == (a: OAuthRequest, b: OAuthRequest) -> Bool {
        a.url == b.url && a.body == b.body && a.headers.map { "\($0.0): \($0.1)" } == b.headers.map { "\($0.0): \($0.1)" }
    }

    /// The refresh request for `refreshToken` to `endpoint`.
    public static func refresh(endpoint: String, refreshToken: String, clientId: String?, clientSecret: String?, scope: String?) -> OAuthRequest {
        var form: [(String, String)] = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let scope { form.append(("scope", scope)) }
        var headers: [(String, String)] = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ]
        if let clientSecret {
            let credentials = formEncode(clientId ?? "") + ":" + formEncode(clientSecret)
            headers.append(("Authorization", "Basic " + Data(credentials.utf8).base64EncodedString()))
        } else if let clientId {
            form.append(("client_id", clientId))
        }
        let body = form.map { formEncode($0.0) + "=" + formEncode($0.1) }.joined(separator: "&")
        return OAuthRequest(url: endpoint, headers: headers, body: Array(body.utf8))
    }

    /// `application/x-www-form-urlencoded` (RFC 6749 Appendix B, the HTML form rules): letters,
    /// digits and `*-._` as they are, space as `+`, every other byte of the UTF-8 as `%XX`.
    public static func formEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out.append("+")
            default:
                out.append("%")
                out.append(String(byte, radix: 16, uppercase: true).leftPadded(to: 2))
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Which token endpoints the module sends secrets to: `https://` anywhere, `http://` only to a
/// loopback host (`127.0.0.0/8`, `::1`, `localhost`), never a URL with credentials in it.
public enum EndpointCheck {
    /// nil when `endpoint` is acceptable, else the reason (it names the URL's scheme and host,
    /// never its query, which might hold a secret).
    public static func problem(_ endpoint: String) -> String? {
        guard let url = URLComponents(string: endpoint), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return "the token endpoint is not an absolute URL"
        }
        guard url.user == nil, url.password == nil else { return "the token endpoint must not hold credentials in its URL" }
        switch scheme {
        case "https": return nil
        case "http": return isLoopback(host) ? nil : "the token endpoint http://\(host) is not loopback: use https (http:// only to 127.0.0.1, ::1 or localhost)"
        default: return "the token endpoint's scheme \(scheme) is not https"
        }
    }

    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
