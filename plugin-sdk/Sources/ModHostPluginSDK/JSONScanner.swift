/// Finds the boundaries of top-level JSON values without building them.
///
/// Used where the SDK only needs to move raw JSON around: splitting positional params into
/// elements, and picking `schema` / `state` out of a state envelope. It checks structure
/// (brackets, strings), not full JSON validity: the decoder that reads the pieces does that.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer

    /// The byte ranges of the elements of a top-level array, or `nil` if `bytes` is not one.
    func arrayElements() -> [Range<Int>]? {
        var index = skipWhitespace(from: 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
        index = skipWhitespace(from: index + 1)
        var elements: [Range<Int>] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            return trailingIsEmpty(after: index + 1) ? elements : nil
        }
        while index < bytes.count {
            guard let end = valueEnd(from: index) else { return nil }
            elements.append(index..<end)
            index = skipWhitespace(from: end)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "]") {
                return trailingIsEmpty(after: index + 1) ? elements : nil
            }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(from: index + 1)
        }
        return nil
    }

    /// The byte ranges of the members of a top-level object, keyed by their raw key text
    /// (keys with escapes are kept escaped), or `nil` if `bytes` is not an object.
    func objectMembers() -> [String: Range<Int>]? {
        var index = skipWhitespace(from: 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index = skipWhitespace(from: index + 1)
        var members: [String: Range<Int>] = [:]
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            return trailingIsEmpty(after: index + 1) ? members : nil
        }
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = stringEnd(from: index) else { return nil }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<(keyEnd - 1)]), as: UTF8.self)
            index = skipWhitespace(from: keyEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index = skipWhitespace(from: index + 1)
            guard let end = valueEnd(from: index) else { return nil }
            members[key] = index..<end
            index = skipWhitespace(from: end)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") {
                return trailingIsEmpty(after: index + 1) ? members : nil
            }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(from: index + 1)
        }
        return nil
    }

    /// Whether the text is the literal `null` (surrounding whitespace allowed).
    var isNull: Bool {
        let start = skipWhitespace(from: 0)
        guard bytes.count - start >= 4 else { return false }
        return bytes[start] == UInt8(ascii: "n") && bytes[start + 1] == UInt8(ascii: "u")
            && bytes[start + 2] == UInt8(ascii: "l") && bytes[start + 3] == UInt8(ascii: "l")
            && trailingIsEmpty(after: start + 4)
    }

    /// Whether the first non-whitespace byte is `[`.
    var startsWithArray: Bool {
        let start = skipWhitespace(from: 0)
        return start < bytes.count && bytes[start] == UInt8(ascii: "[")
    }

    // MARK: - Scanning

    private func trailingIsEmpty(after index: Int) -> Bool {
        skipWhitespace(from: index) == bytes.count
    }

    private func skipWhitespace(from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return index
            }
        }
        return index
    }

    /// The index just past the value starting at `start`.
    private func valueEnd(from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return stringEnd(from: start)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return containerEnd(from: start)
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ":"):
            return nil
        default:
            // A number or a literal: runs until a delimiter.
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
                    UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    return index
                default: index += 1
                }
            }
            return index
        }
    }

    /// The index just past the closing quote of the string starting at `start`.
    private func stringEnd(from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// The index just past the bracket closing the array or object starting at `start`.
    private func containerEnd(from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let end = stringEnd(from: index) else { return nil }
                index = end
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return index + 1 }
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
