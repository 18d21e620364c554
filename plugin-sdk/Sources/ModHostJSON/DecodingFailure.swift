/// The one renderer of a `DecodingError` as a line that names the offending field, for host
/// params and SDK params, config and state alike:
///
///     missing field "size.height"
///     "items[2].name": expected String, found a number
///     expected an object, found an array
///
/// Errors from `JSONValueDecoder` carry what was found; for those of another decoder
/// (`JSONDecoder`), pass the parsed value that was decoded as `root` to say what sits at the
/// failing path.
public enum DecodingFailure {
    public static func message(_ error: DecodingError, in root: JSONValue? = nil) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(quoted(context.codingPath + [key]))"
        case .typeMismatch(let type, let context):
            guard let root else { return located(context.codingPath, context.debugDescription) }
            let found = value(at: context.codingPath, in: root)?.kindDescription ?? "something else"
            return located(context.codingPath, "expected \(typeName(type)), found \(found)")
        case .valueNotFound(let type, let context):
            return located(context.codingPath, "expected \(typeName(type)), found null")
        case .dataCorrupted(let context):
            if root != nil, context.codingPath.isEmpty, context.debugDescription.contains("not valid JSON") {
                // `JSONDecoder` says this of valid JSON holding a number that does not fit
                // (1e100, or 1.5 for an Int); `JSONValueDecoder` says it in these words.
                return "a number is out of range or not an integer where one is expected"
            }
            return located(context.codingPath, context.debugDescription)
        @unknown default:
            return String(describing: error)
        }
    }

    /// `"a.b[2].c"`: a coding path as the messages quote it.
    public static func quoted(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return "\"\(text)\""
    }

    /// A type as messages name it: `Int`, `String`; `an object` and `an array` for the
    /// containers `Decoder`s ask for.
    public static func typeName(_ type: Any.Type) -> String {
        if ObjectIdentifier(type) == ObjectIdentifier([String: Any].self) { return "an object" }
        if ObjectIdentifier(type) == ObjectIdentifier([Any].self) { return "an array" }
        return String(describing: type)
    }

    private static func located(_ path: [any CodingKey], _ text: String) -> String {
        path.isEmpty ? text : "\(quoted(path)): \(text)"
    }

    /// The value at a coding path, nil when the path leads nowhere.
    private static func value(at path: [any CodingKey], in root: JSONValue) -> JSONValue? {
        var value = root
        for key in path {
            switch value {
            case .array(let elements):
                guard let index = key.intValue, elements.indices.contains(index) else { return nil }
                value = elements[index]
            case .object(let members):
                guard let member = members[key.stringValue] else { return nil }
                value = member
            default:
                return nil
            }
        }
        return value
    }
}
