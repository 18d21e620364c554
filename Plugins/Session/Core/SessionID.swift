import ModuleSupport

/// Session ids name directories under the module's data directory, so they are checked before
/// anything touches the disk: `[A-Za-z0-9._-]{1,128}`, not starting with `.`. ASCII only, so
/// `..`, `/`, NUL and unicode look-alikes (a fullwidth solidus, a one-dot leader) never reach a
/// path.
public enum SessionID {
    public static let maxLength = 128

    /// Refuses an id that could escape the data directory, naming `field`.
    public static func check(_ id: String, field: String = "sessionId") throws(ModuleFailure) {
        let bytes = Array(id.utf8)
        guard (1...maxLength).contains(bytes.count) else {
            throw .invalidInput("\(field) must be 1 to \(maxLength) characters long (got \(bytes.count) bytes)")
        }
        guard bytes.allSatisfy(allowed) else {
            throw .invalidInput("\(field) may hold only A-Z, a-z, 0-9, '.', '_' and '-'")
        }
        guard bytes[0] != UInt8(ascii: ".") else {
            throw .invalidInput("\(field) must not start with '.'")
        }
    }

    static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
