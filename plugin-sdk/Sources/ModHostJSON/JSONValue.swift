/// Any JSON value: params or results whose shape is not fixed, test expectations, config.
///
///     let value = try JSONValue(parsing: #"{"n": 18446744073709551615, "x": [1.5, null]}"#)
///     value["n"] == .uint(18446744073709551615)     // exact: integers never pass through a Double
///     value["x"][0].double == 1.5
///     value["missing"] == .null
///     let reply: JSONValue = ["hello", 5]           // literals
///
/// Integers are exact: `.int` holds every integer that fits an `Int64`, `.uint` those above it
/// up to `UInt64.max`; `.double` holds fractions, exponents and anything larger. Numbers compare
/// by value, so `.int(1) == .double(1.0)` (JSON has one number type; the cases only say how it
/// is held). Objects are dictionaries: member order is not kept, and the first of duplicate
/// keys wins, as with `JSONDecoder`. Subscripts never trap: a missing member or element, or a
/// subscript of a non-container, is `.null`.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// An integer above `Int64.max` (never one that fits an `Int64`: those are `.int`).
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

// MARK: - Reading

extension JSONValue {
    /// The member `key` of an object; `.null` when missing or not an object.
    public subscript(key: String) -> JSONValue {
        if case .object(let members) = self { return members[key] ?? .null }
        return .null
    }

    /// The element at `index` of an array; `.null` when out of range or not an array.
    public subscript(index: Int) -> JSONValue {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return .null
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    public var isNull: Bool { if case .null = self { true } else { false } }

    /// The number as an `Int64` when it is an integer in range (`2.0` included); else nil.
    public var int: Int64? {
        switch self {
        case .int(let value): value
        case .uint(let value): Int64(exactly: value)
        case .double(let value): Int64(exactly: value)
        default: nil
        }
    }

    /// The number as a `Double` (the nearest one for integers beyond 2^53); nil for non-numbers.
    public var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .uint(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// False when a double anywhere in the value is NaN or infinite, which JSON cannot hold
    /// (`write(to:)` writes `null` for it); a reply should refuse such a value, not send it.
    public var isFinite: Bool {
        switch self {
        case .double(let value): value.isFinite
        case .array(let elements): elements.allSatisfy(\.isFinite)
        case .object(let members): members.values.allSatisfy(\.isFinite)
        default: true
        }
    }

    /// "a string", "an object", …: what a value is, for error messages.
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .uint, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

// MARK: - Equality

extension JSONValue: Hashable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .uint(let b)), (.uint(let b), .int(let a)): return a >= 0 && UInt64(a) == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int64(exactly: b) == a
        case (.uint(let a), .double(let b)), (.double(let b), .uint(let a)): return UInt64(exactly: b) == a
        default: return false
        }
    }

    /// Equal numbers hash alike whatever their case: integral values as integers.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .string(let value): hasher.combine(value)
        case .array(let value): hasher.combine(value)
        case .object(let value): hasher.combine(value)
        case .int(let value): hasher.combine(value)
        case .uint(let value): hashNumber(Int64(exactly: value), value, nil, &hasher)
        case .double(let value): hashNumber(Int64(exactly: value), UInt64(exactly: value), value, &hasher)
        }
    }

    private func hashNumber(_ signed: Int64?, _ unsigned: UInt64?, _ double: Double?, _ hasher: inout Hasher) {
        if let signed {
            hasher.combine(signed)
        } else if let unsigned {
            hasher.combine(unsigned)
        } else {
            hasher.combine(double ?? 0)
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A later duplicate key replaces an earlier one.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text (see `text`).
    public var description: String { text }
}
