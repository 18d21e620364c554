/// `provider.error`: an upstream call with `providerKey` failed. The same fields are
/// `health.report`'s params: `status` (an HTTP status), or `errorClass` (`rate_limit`, `quota`,
/// `server`, `network`, `auth`, `series_quota`), a `retryAfter` hint (seconds, or the header's
/// text: seconds or an HTTP date), the response `body` (searched for hints, never logged), and
/// the key's `series`.
///
/// Decoding checks the shapes and says what is wrong in the field's words (`status must be an
/// integer, found a string`); the rules (ranges, classes) are the consumer's.
public struct ProviderError: Codable, Sendable, Equatable {
    public var providerKey: String
    public var series: String?
    public var status: Int?
    public var errorClass: String?
    public var retryAfter: RetryAfter?
    public var body: String?

    /// A `Retry-After` value as it came: a number of seconds, or text.
    public enum RetryAfter: Codable, Sendable, Equatable {
        case seconds(Double)
        case text(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                self = .seconds(seconds)
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "retryAfter must be a number of seconds or a string (seconds or an HTTP date)")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .seconds(let seconds): try container.encode(seconds)
            case .text(let text): try container.encode(text)
            }
        }
    }

    public init(providerKey: String, series: String? = nil, status: Int? = nil, errorClass: String? = nil,
                retryAfter: RetryAfter? = nil, body: String? = nil) {
        self.providerKey = providerKey
        self.series = series
        self.status = status
        self.errorClass = errorClass
        self.retryAfter = retryAfter
        self.body = body
    }

    private enum CodingKeys: String, CodingKey {
        case providerKey, series, status, errorClass, retryAfter, body
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        providerKey = try container.decode(String.self, forKey: .providerKey)
        series = try container.decodeIfPresent(String.self, forKey: .series)
        errorClass = try container.decodeIfPresent(String.self, forKey: .errorClass)
        retryAfter = try container.decodeIfPresent(RetryAfter.self, forKey: .retryAfter)
        body = try container.decodeIfPresent(String.self, forKey: .body)
        status = try Self.status(in: container)
    }

    /// `status`, read as a number first so that `429.5` or `1e20` get a sentence naming it.
    private static func status(in container: KeyedDecodingContainer<CodingKeys>) throws -> Int? {
        guard container.contains(.status), try !container.decodeNil(forKey: .status) else { return nil }
        guard let number = try? container.decode(Double.self, forKey: .status) else {
            let found = (try? container.decode(String.self, forKey: .status)) != nil ? "a string"
                : (try? container.decode(Bool.self, forKey: .status)) != nil ? "a boolean" : "something else"
            throw DecodingError.dataCorruptedError(forKey: .status, in: container, debugDescription: "status must be an integer, found \(found)")
        }
        guard number == number.rounded() else {
            throw DecodingError.dataCorruptedError(forKey: .status, in: container, debugDescription: "status \(number) is not an integer")
        }
        guard abs(number) < 1e9 else {
            throw DecodingError.dataCorruptedError(forKey: .status, in: container, debugDescription: "status \(number) is outside 100..599")
        }
        return Int(number)
    }
}

/// `provider.success`: an upstream call with `providerKey` succeeded.
public struct ProviderSuccess: Codable, Sendable, Equatable {
    public var providerKey: String
    public init(providerKey: String) { self.providerKey = providerKey }
}
