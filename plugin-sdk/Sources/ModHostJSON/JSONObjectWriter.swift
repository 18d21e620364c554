/// Writes one JSON object member by member, straight into bytes: for error data, events and
/// results built by hand, where an encoder would cost more than the work itself.
///
///     var data = JSONObjectWriter()
///     data.add("module", id)
///     data.add("code", 7)
///     data.add("details", json: raw)        // JSON text passed on as it is
///     reply(data.result)                    // {"module":"…","code":7,"details":…}
public struct JSONObjectWriter: Sendable {
    /// The object so far, without its closing brace.
    public private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var isEmpty = true

    public init() {}

    /// Writes `"name":`, after a comma unless it is the first member.
    private mutating func key(_ name: some StringProtocol) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONString.append(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func add(_ name: String, _ value: some StringProtocol) {
        key(name)
        JSONString.append(value, to: &bytes)
    }

    public mutating func add(_ name: String, _ value: some BinaryInteger) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func add(_ name: String, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func add(_ name: String, _ value: JSONValue) {
        key(name)
        value.write(to: &bytes)
    }

    /// Adds JSON text (one valid value, on one line) as the value, as it is.
    public mutating func add(_ name: String, json value: some Sequence<UInt8>) {
        key(name)
        bytes.append(contentsOf: value)
    }

    /// The finished object.
    public var result: [UInt8] { bytes + [UInt8(ascii: "}")] }
}
