@_exported import ModHostJSON

/// A JSON value for tests: the toolkit's `JSONValue`. Build params with literals, read
/// responses with subscripts that never trap (a missing member is `.null`), compare numbers by
/// value (`.int(1) == .double(1.0)`), parse with `JSON(parsing:)`, print with `.text` (compact,
/// keys sorted).
///
///     let result = try host.call("health.status", ["providerKey": "openai.k1"])
///     #expect(result["state"] == "cooldown")
///     #expect(result["trips"].int == 2)
public typealias JSON = JSONValue
