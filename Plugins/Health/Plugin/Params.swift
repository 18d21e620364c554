import HealthCore
import ModHostPluginSDK
import ModuleContracts

/// `health.report`'s params are a `provider.error` event's data (`ProviderError`, shared with
/// the producers): the rules read them as a `ReportInput`.
extension ProviderError {
    var input: ReportInput {
        let retry: RetryAfterValue? = switch retryAfter {
        case .seconds(let seconds): .seconds(seconds)
        case .text(let text): .text(text)
        case nil: nil
        }
        return ReportInput(providerKey: providerKey, series: series, status: status, errorClass: errorClass,
                           retryAfter: retry, body: body)
    }
}

/// `{providerKey}`: reportSuccess.
struct KeyParams: Decodable, Sendable {
    let providerKey: String
}

/// `{providerKey?}`: status and reset.
struct OptionalKeyParams: Decodable, Sendable {
    let providerKey: String?
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
