/// What a token file's name says: its id, and the provider, sequence number and alias of the
/// upstream naming `<provider>-oauth-<seq>-<alias>.json` (`qwen-oauth-1-default.json`).
public struct TokenName: Sendable, Equatable {
    /// The file name without `.json`: the token's id.
    public var id: String
    public var provider: String?
    public var seq: Int?
    public var alias: String?

    /// The name of a token file, or nil for a file the module skips: not ending in `.json`, a
    /// dotfile (the lock files are `.<id>.lock`), a name containing `.bak` or `.tmp`, or a name
    /// over 200 bytes or holding a `/`.
    public init?(fileName: String) {
        guard fileName.hasSuffix(".json"), !fileName.hasPrefix("."), !fileName.contains(".bak"), !fileName.contains(".tmp"),
              !fileName.contains("/"), fileName.utf8.count <= 200
        else { return nil }
        id = String(fileName.dropLast(5))
        guard !id.isEmpty else { return nil }
        let parts = id.split(separator: "-", maxSplits: 3, omittingEmptySubsequences: false)
        if parts.count == 4, parts[1] == "oauth", !parts[0].isEmpty, !parts[3].isEmpty, let seq = Int(parts[2]), seq >= 0 {
            provider = String(parts[0])
            self.seq = seq
            alias = String(parts[3])
        }
    }

    public var fileName: String { id + ".json" }
}
