/// The per-token delay inside the refresh-ahead window, so tokens issued together do not all
/// refresh at the same moment: a hash of the token id (FNV-1a, 64 bits) modulo the largest
/// jitter plus one, the largest being 10 % of the window and at most 3 minutes. The same id
/// always gets the same jitter, in every process and after every restart.
public enum Jitter {
    public static let capMs: Int64 = 180_000

    /// The largest jitter for a window of `windowMs`.
    public static func maxMs(windowMs: Int64) -> Int64 {
        min(max(windowMs, 0) / 10, capMs)
    }

    /// The jitter of token `id` for a window of `windowMs`: 0 ... `maxMs(windowMs:)`.
    public static func ms(for id: String, windowMs: Int64) -> Int64 {
        let span = UInt64(maxMs(windowMs: windowMs)) + 1
        return Int64(fnv1a(id) % span)
    }

    /// FNV-1a, 64 bits, of the UTF-8 bytes of `text`.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
