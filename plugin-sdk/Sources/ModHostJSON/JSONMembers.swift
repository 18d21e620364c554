/// The top-level members of a JSON object as raw text, for readers that pass a member on without
/// re-encoding it (`events.publish`'s data, `modules.load`'s config, a state envelope's
/// `state`, an error object's `data`).
public enum JSONMembers {
    /// The byte range of each member's value, by decoded name (the last of duplicate keys
    /// wins); nil unless `bytes` is exactly one valid JSON object.
    public static func ranges(_ bytes: UnsafeBufferPointer<UInt8>) -> [String: Range<Int>]? {
        var scanner = JSONScanner(bytes)
        var members: [String: Range<Int>] = [:]
        do {
            scanner.skipWhitespace()
            guard scanner.next == UInt8(ascii: "{") else { return nil }
            try scanner.visitObject { scanner, key in
                members[scanner.string(key)] = try scanner.skipValueRange()
            }
            try scanner.expectEnd()
        } catch {
            return nil
        }
        return members
    }

    /// Each member's value as raw JSON bytes, by decoded name; nil unless `object` is exactly
    /// one valid JSON object.
    public static func raw(_ object: [UInt8]) -> [String: [UInt8]]? {
        object.withUnsafeBufferPointer { buffer in
            ranges(buffer)?.mapValues { Array(buffer[$0]) }
        }
    }
}
