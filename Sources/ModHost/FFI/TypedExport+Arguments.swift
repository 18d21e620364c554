/// Finding each argument's raw JSON value in a call's params, and the arity and name refusals.
extension TypedExport {
    /// Locates parameter `k`'s value as `params[ranges[2k]..<ranges[2k+1]]`, validating all of
    /// `params` on the way; `ranges` may be nil only for an export without parameters.
    func locateArguments(_ params: UnsafeBufferPointer<UInt8>?, into ranges: UnsafeMutablePointer<Int>?) throws(RPCError) {
        let count = parameterCount
        guard let params else {
            guard count == 0 else { throw arityError(got: 0) }
            return
        }
        var scanner = JSONScanner(params)
        var index = 0
        scanner.skipWhitespace(&index)
        guard index < params.count else { throw Self.notJSON }
        switch params[index] {
        case UInt8(ascii: "["): try locatePositional(params, &scanner, &index, into: ranges)
        case UInt8(ascii: "{"): try locateNamed(params, &scanner, &index, into: ranges)
        default: throw .invalidParams("params must be an array or an object, got \(FFIValueDecoder.kind(of: params[index]))")
        }
        scanner.skipWhitespace(&index)
        guard index == params.count else { throw Self.notJSON }
    }

    private func locatePositional(
        _ params: UnsafeBufferPointer<UInt8>, _ scanner: inout JSONScanner, _ index: inout Int,
        into ranges: UnsafeMutablePointer<Int>?
    ) throws(RPCError) {
        let count = parameterCount
        var got = 0
        index += 1
        scanner.skipWhitespace(&index)
        if index < params.count, params[index] == UInt8(ascii: "]") {
            index += 1
        } else {
            while true {
                scanner.skipWhitespace(&index)
                let start = index
                try Self.skipValue(&scanner, &index)
                if got < count, let ranges {
                    ranges[2 * got] = start
                    ranges[2 * got + 1] = index
                }
                got += 1
                guard try Self.nextMember(params, &scanner, &index, closing: UInt8(ascii: "]")) else { break }
            }
        }
        guard got == count else { throw arityError(got: got) }
    }

    private func locateNamed(
        _ params: UnsafeBufferPointer<UInt8>, _ scanner: inout JSONScanner, _ index: inout Int,
        into ranges: UnsafeMutablePointer<Int>?
    ) throws(RPCError) {
        let count = parameterCount
        for k in 0..<2 * count { ranges?[k] = -1 }
        index += 1
        scanner.skipWhitespace(&index)
        if index < params.count, params[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                scanner.skipWhitespace(&index)
                guard index < params.count, params[index] == UInt8(ascii: "\"") else { throw Self.notJSON }
                let keyStart = index
                let escaped: Bool
                do { escaped = try scanner.skipString(&index) } catch { throw Self.notJSON }
                let key = UnsafeBufferPointer(rebasing: params[keyStart + 1..<index - 1])
                guard names != nil || count == 0 else { throw positionalOnly() }
                guard let position = parameterIndex(key, escaped: escaped) else {
                    throw .invalidParams("unknown parameter \(Self.quoted(key, escaped: escaped))")
                }
                scanner.skipWhitespace(&index)
                guard index < params.count, params[index] == UInt8(ascii: ":") else { throw Self.notJSON }
                index += 1
                scanner.skipWhitespace(&index)
                let start = index
                try Self.skipValue(&scanner, &index)
                if let ranges {
                    guard ranges[2 * position] < 0 else { throw .invalidParams("parameter \(labels[position]) is given twice") }
                    ranges[2 * position] = start
                    ranges[2 * position + 1] = index
                }
                guard try Self.nextMember(params, &scanner, &index, closing: UInt8(ascii: "}")) else { break }
            }
        }
        guard count > 0 else { return }
        guard names != nil else { throw positionalOnly() }
        for position in 0..<count where ranges![2 * position] < 0 {
            throw .invalidParams("missing parameter \(labels[position])")
        }
    }

    /// The declared parameter a key names; plain keys are compared as bytes, without decoding.
    private func parameterIndex(_ key: UnsafeBufferPointer<UInt8>, escaped: Bool) -> Int? {
        if !escaped {
            for index in 0..<nameOffsets.count - 1 {
                let name = UnsafeBufferPointer(rebasing: nameBytes[nameOffsets[index]..<nameOffsets[index + 1]])
                if name.count == key.count, name.elementsEqual(key) { return index }
            }
            return nil
        }
        guard let decoded = JSONText.decodeString(key) else { return nil }
        return names?.firstIndex(of: decoded)
    }

    /// `export add takes 2 parameters (a, b), got 3`: names, or types when there are none.
    func arityError(got: Int) -> RPCError {
        let parameters = signature.parameters
        let listed = (names ?? parameters.map(\.spelling)).joined(separator: ", ")
        let takes =
            parameters.isEmpty
            ? "takes no parameters" : "takes \(parameters.count) parameter\(parameters.count == 1 ? "" : "s") (\(listed))"
        return .invalidParams("export \(name) \(takes), got \(got)")
    }

    private func positionalOnly() -> RPCError {
        let count = parameterCount
        return .invalidParams(
            "export \(name) has no parameter names: pass its \(count) parameter\(count == 1 ? "" : "s") as an array")
    }

    private static var notJSON: RPCError { .invalidParams("params are not valid JSON") }

    private static func skipValue(_ scanner: inout JSONScanner, _ index: inout Int) throws(RPCError) {
        do { try scanner.skipValue(&index) } catch { throw notJSON }
    }

    /// After a member: true past a comma (another member follows), false past `closing`.
    private static func nextMember(
        _ params: UnsafeBufferPointer<UInt8>, _ scanner: inout JSONScanner, _ index: inout Int, closing: UInt8
    ) throws(RPCError) -> Bool {
        scanner.skipWhitespace(&index)
        guard index < params.count else { throw notJSON }
        switch params[index] {
        case UInt8(ascii: ","):
            index += 1
            return true
        case closing:
            index += 1
            return false
        default:
            throw notJSON
        }
    }

    /// An object key as a quoted JSON string for a message.
    private static func quoted(_ key: UnsafeBufferPointer<UInt8>, escaped: Bool) -> String {
        let text = escaped ? JSONText.decodeString(key) ?? "?" : String(decoding: key, as: UTF8.self)
        return String(decoding: JSONText.quoted(text), as: UTF8.self)
    }
}
