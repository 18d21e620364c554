import ModHostJSON

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
        scanner.skipWhitespace()
        do {
            switch scanner.next {
            case UInt8(ascii: "["): try locatePositional(&scanner, into: ranges)
            case UInt8(ascii: "{"): try locateNamed(&scanner, into: ranges)
            case let first?:
                throw RPCError.invalidParams("params must be an array or an object, got \(FFIValueDecoder.kind(of: first))")
            case nil: throw Self.notJSON
            }
            try scanner.expectEnd()
        } catch let error as RPCError {
            throw error
        } catch {
            throw Self.notJSON
        }
    }

    private func locatePositional(_ scanner: inout JSONScanner, into ranges: UnsafeMutablePointer<Int>?) throws {
        let count = parameterCount
        var got = 0
        try scanner.visitArray { scanner, position in
            let value = try scanner.skipValueRange()
            if position < count, let ranges {
                ranges[2 * position] = value.lowerBound
                ranges[2 * position + 1] = value.upperBound
            }
            got = position + 1
        }
        guard got == count else { throw arityError(got: got) }
    }

    private func locateNamed(_ scanner: inout JSONScanner, into ranges: UnsafeMutablePointer<Int>?) throws {
        let count = parameterCount
        for k in 0..<2 * count { ranges?[k] = -1 }
        try scanner.visitObject { scanner, key in
            guard names != nil || count == 0 else { throw positionalOnly() }
            guard let position = parameterIndex(scanner, key) else {
                throw RPCError.invalidParams("unknown parameter \(JSONString.quotedText(scanner.string(key)))")
            }
            let value = try scanner.skipValueRange()
            if let ranges {
                guard ranges[2 * position] < 0 else { throw RPCError.invalidParams("parameter \(labels[position]) is given twice") }
                ranges[2 * position] = value.lowerBound
                ranges[2 * position + 1] = value.upperBound
            }
        }
        guard count > 0 else { return }
        guard names != nil else { throw positionalOnly() }
        for position in 0..<count where ranges![2 * position] < 0 {
            throw RPCError.invalidParams("missing parameter \(labels[position])")
        }
    }

    /// The declared parameter a key names; plain keys are compared as bytes, without decoding.
    private func parameterIndex(_ scanner: JSONScanner, _ key: JSONScanner.StringToken) -> Int? {
        if !key.hasEscapes {
            let bytes = UnsafeBufferPointer(rebasing: scanner.bytes[key.contents])
            for index in 0..<nameOffsets.count - 1 {
                let name = UnsafeBufferPointer(rebasing: nameBytes[nameOffsets[index]..<nameOffsets[index + 1]])
                if name.count == bytes.count, name.elementsEqual(bytes) { return index }
            }
            return nil
        }
        return names?.firstIndex(of: scanner.string(key))
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
}
