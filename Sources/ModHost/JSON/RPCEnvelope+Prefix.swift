import ModHostJSON

extension RPCEnvelope {
    /// The raw `id` of a request whose line was cut short (a line over `--max-line-bytes`: only
    /// its first part is read), so the refusal can carry it and the client waiting for that id
    /// gets its answer. Nil when the part holds no complete top-level `id` before the cut, when
    /// the id is not a string, number or null, or when the part is not the start of an object.
    ///
    /// A value that runs into the end of the part is not taken: `"id":12` may be the start of
    /// `"id":1234`.
    static func id(inPrefix prefix: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        struct Found: Error { let range: Range<Int> }
        var scanner = JSONScanner(prefix)
        scanner.skipWhitespace()
        guard scanner.next == UInt8(ascii: "{") else { return nil }
        do {
            try scanner.visitObject { scanner, key in
                guard !key.hasEscapes ? scanner.string(key, equals: "id") : scanner.string(key) == "id" else {
                    try scanner.skipValue()
                    return
                }
                let range = try scanner.skipValueRange()
                guard range.upperBound < prefix.count else { return }
                switch prefix[range.lowerBound] {
                case UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "n"):
                    throw Found(range: range)
                default:
                    return
                }
            }
        } catch let found as Found {
            return found.range
        } catch {
            return nil
        }
        return nil
    }
}
