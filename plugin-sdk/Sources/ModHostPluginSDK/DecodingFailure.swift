#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Renders a `DecodingError` as one line that names the offending field.
///
///     missing field "minuend"
///     "items[2].name": expected String, found a number
///     expected an object, found an array
struct DecodingFailure {
    let error: DecodingError
    /// The JSON that was being decoded, to say what was found at the failing path; `nil`
    /// when unknown (an error thrown from a handler's own decoding).
    let json: Data?

    var message: String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(Self.quoted(context.codingPath + [key]))"
        case .typeMismatch(let type, let context):
            guard json != nil else { return located(context.codingPath, context.debugDescription) }
            return located(context.codingPath, "expected \(Self.name(of: type)), found \(found(at: context.codingPath))")
        case .valueNotFound(let type, let context):
            return located(context.codingPath, "expected \(Self.name(of: type)), found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty, context.debugDescription.contains("not valid JSON"), let json,
                (try? JSONDecoder().decode(JSONValue.self, from: json)) != nil
            {
                // Foundation reports a number that does not fit (1e100 or 1.5 for an Int) this way.
                return "a number is out of range or not an integer where one is expected"
            }
            return located(context.codingPath, context.debugDescription)
        @unknown default:
            return String(describing: error)
        }
    }

    private func located(_ path: [any CodingKey], _ text: String) -> String {
        path.isEmpty ? text : "\(Self.quoted(path)): \(text)"
    }

    /// What the JSON holds at `path`: "a string", "an array", ….
    private func found(at path: [any CodingKey]) -> String {
        guard let json, var value = try? JSONDecoder().decode(JSONValue.self, from: json) else { return "something else" }
        for key in path {
            if case .array = value, let index = key.intValue, let element = value[index] {
                value = element
            } else if let member = value[key.stringValue] {
                value = member
            } else {
                return "something else"
            }
        }
        return value.kindDescription
    }

    /// `"a.b[2].c"`
    static func quoted(_ path: [any CodingKey]) -> String {
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

    private static func name(of type: Any.Type) -> String {
        if ObjectIdentifier(type) == ObjectIdentifier([String: Any].self) { return "an object" }
        if ObjectIdentifier(type) == ObjectIdentifier([Any].self) { return "an array" }
        return String(describing: type)
    }
}
