import ModHostJSON
import ModuleSupport

/// What came back from the token endpoint, as the plugin hands it in: a response (its body cut
/// at `OAuthResponse.maxBodyBytes` while it streamed in), or why there was none.
public enum HTTPResult: Sendable, Equatable {
    /// `headers` by lower-cased name.
    case response(status: Int, headers: [String: String], body: [UInt8])
    /// No usable response: `timeout` (the whole request took longer than allowed), `network`
    /// (connect, TLS, reset), `tooLarge` (the body passed the cap and the transfer was
    /// cancelled), `redirect` (refused: a redirect could carry the secret elsewhere).
    case failed(HTTPFailure, detail: String)
}

public enum HTTPFailure: String, Sendable, Equatable {
    case timeout, network, tooLarge, redirect
}

/// A refresh's outcome by RFC 6749: §5.1 success, §5.2 error by its `error` code, or a
/// transient failure to back off from.
public enum RefreshOutcome: Sendable, Equatable {
    /// `expiresInMs` nil: the server gave no `expires_in` (expiry unknown).
    case success(accessToken: String, refreshToken: String?, expiresInMs: Int64?, tokenType: String?, scope: String?)
    /// A §5.2 error response: `error` is its code (`invalid_grant`, `invalid_client`, …).
    case oauthError(error: String, description: String?, status: Int)
    /// Worth retrying later: `reason` is a snake_case word (`rate_limited`, `http_503`,
    /// `timeout`, `network_error`, `response_too_large`, `invalid_response`, …).
    case transient(reason: String, retryAfterMs: Int64?, detail: String)
}

public enum OAuthResponse {
    /// The most of a response body the module reads (64 KiB): a token response is a few
    /// hundred bytes.
    public static let maxBodyBytes = 64 * 1024

    /// Reads `result` at host time `nowMs` (for a `Retry-After` HTTP date).
    public static func outcome(of result: HTTPResult, nowMs: Int64) -> RefreshOutcome {
        switch result {
        case .failed(let failure, let detail):
            switch failure {
            case .timeout: return .transient(reason: "timeout", retryAfterMs: nil, detail: detail)
            case .network: return .transient(reason: "network_error", retryAfterMs: nil, detail: detail)
            case .tooLarge: return .transient(reason: "response_too_large", retryAfterMs: nil,
                                              detail: "the response body passed \(maxBodyBytes) bytes")
            case .redirect: return .transient(reason: "redirect_refused", retryAfterMs: nil, detail: detail)
            }
        case .response(let status, let headers, let body):
            return outcome(status: status, headers: headers, body: body, nowMs: nowMs)
        }
    }

    static func outcome(status: Int, headers: [String: String], body: [UInt8], nowMs: Int64) -> RefreshOutcome {
        guard body.count <= maxBodyBytes else {
            return .transient(reason: "response_too_large", retryAfterMs: nil, detail: "the response body passed \(maxBodyBytes) bytes")
        }
        let json = (try? JSONValue(parsing: body))?.object
        if status == 429 || status >= 500 {
            let retry = headers["retry-after"].flatMap { retryAfterMs($0, nowMs: nowMs) }
            let reason = status == 429 ? "rate_limited" : "http_\(status)"
            return .transient(reason: reason, retryAfterMs: retry, detail: "the token endpoint answered HTTP \(status)")
        }
        guard let json else {
            return .transient(reason: "invalid_response", retryAfterMs: nil,
                              detail: "the token endpoint answered HTTP \(status) with a body that is not a JSON object")
        }
        if status == 200 {
            guard let access = json["access_token"]?.string, !access.isEmpty else {
                return .transient(reason: "invalid_response", retryAfterMs: nil, detail: "the HTTP 200 response has no access_token")
            }
            let refresh = json["refresh_token"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            return .success(accessToken: access, refreshToken: refresh, expiresInMs: expiresInMs(json["expires_in"]),
                            tokenType: json["token_type"]?.string, scope: json["scope"]?.string)
        }
        if (400...499).contains(status), let code = json["error"]?.string {
            guard isErrorCode(code) else {
                return .transient(reason: "invalid_response", retryAfterMs: nil, detail: "the error code of the HTTP \(status) response is malformed")
            }
            return .oauthError(error: code, description: json["error_description"]?.string, status: status)
        }
        return .transient(reason: "http_\(status)", retryAfterMs: nil, detail: "the token endpoint answered HTTP \(status)")
    }

    /// `expires_in`: seconds as a number (or a string of digits, which some servers send).
    static func expiresInMs(_ value: JSONValue?) -> Int64? {
        let seconds = value?.double ?? value?.string.flatMap(Double.init)
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e10 else { return nil }
        return Int64((seconds * 1000).rounded())
    }

    /// `Retry-After`: delay-seconds or an HTTP date, as ms from `nowMs`.
    static func retryAfterMs(_ text: String, nowMs: Int64) -> Int64? {
        let trimmed = text.trimmingASCIISpaces
        if let seconds = Int64(trimmed), seconds >= 0 { return seconds.multipliedReportingOverflow(by: 1000).overflow ? nil : seconds * 1000 }
        guard let at = HTTPDate.epochMs(String(trimmed), nowMs: nowMs) else { return nil }
        return max(0, at - nowMs)
    }

    /// §5.2: `error` is ASCII without `"` and `\`; the module takes short codes of letters,
    /// digits, `_`, `-` and `.` (every registered code is one), so a code can go in an event.
    static func isErrorCode(_ code: String) -> Bool {
        !code.isEmpty && code.utf8.count <= 64 && code.utf8.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x5F || byte == 0x2D || byte == 0x2E
        }
    }
}
