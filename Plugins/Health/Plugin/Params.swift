import HealthCore
import ModHostPluginSDK

/// `health.report` params, also the data of a `provider.error` event.
struct ReportParams: Decodable, Sendable {
    let providerKey: String
    let series: String?
    let status: StatusParam?
    let errorClass: String?
    let retryAfter: RetryAfterParam?
    let body: String?

    var input: ReportInput {
        ReportInput(providerKey: providerKey, series: series, status: status?.value, errorClass: errorClass,
                    retryAfter: retryAfter?.value, body: body)
    }
}

/// `status`: an integer. Read as a number first so that `429.5` or `1e20` get a message that
/// names the field (the decoder's own message for those does not).
struct StatusParam: Decodable, Sendable {
    let value: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let number = try? container.decode(Double.self) else {
            let found = (try? container.decode(String.self)) != nil ? "a string"
                : (try? container.decode(Bool.self)) != nil ? "a boolean" : "something else"
            throw PluginError.invalidParams("status must be an integer, found \(found)")
        }
        guard number == number.rounded() else { throw PluginError.invalidParams("status \(number) is not an integer") }
        guard abs(number) < 1e9 else { throw PluginError.invalidParams("status \(number) is outside 100..599") }
        value = Int(number)
    }
}

/// `retryAfter`: a JSON number of seconds or the header's text.
struct RetryAfterParam: Decodable, Sendable {
    let value: RetryAfterValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            value = .seconds(seconds)
        } else if let text = try? container.decode(String.self) {
            value = .text(text)
        } else {
            throw PluginError.invalidParams(
                "retryAfter must be a number of seconds or a string (seconds or an HTTP date)")
        }
    }
}

/// `{providerKey}`: reportSuccess, and the `provider.success` / `token.reauth_required` events.
struct KeyParams: Decodable, Sendable {
    let providerKey: String
}

/// `{providerKey?}`: status and reset.
struct OptionalKeyParams: Decodable, Sendable {
    let providerKey: String?
}

/// `{providerKeys: [string]}`: available.
struct AvailableParams: Decodable, Sendable {
    let providerKeys: [String]
}

/// `token.refreshed` data: `{providerKey}` or `{id}`.
struct RefreshedParams: Decodable, Sendable {
    let providerKey: String?
    let id: String?
}

/// `health.status`: one key, or `{entries}` without one.
enum StatusAnswer: Encodable, Sendable {
    case one(KeyStatus)
    case all(StatusList)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .one(let status): try status.encode(to: encoder)
        case .all(let list): try list.encode(to: encoder)
        }
    }
}

/// The `health` config section, read with `HealthConfig.decode(from:)`.
struct ConfigSection: Decodable {
    let config: HealthConfig
    let unknownKeys: [String]

    init(from decoder: any Decoder) throws {
        (config, unknownKeys) = try HealthConfig.decode(from: decoder)
    }
}
