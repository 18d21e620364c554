extension JSONValue: Codable {
    /// Under `JSONValueDecoder` the value is taken whole from the parsed tree, in constant
    /// time. Under another decoder (`JSONDecoder`) each kind is tried in turn, and every failed
    /// attempt builds an error holding the coding path: fine for flat values, quadratic in the
    /// nesting for deep ones (arrays nested 510 deep take about 2 s). Decode JSON you did not
    /// write with `JSONValueDecoder` (the SDK does, for params, config, state and the store).
    public init(from decoder: any Decoder) throws {
        if let reader = decoder as? Reader {
            self = reader.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .uint(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .uint(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
