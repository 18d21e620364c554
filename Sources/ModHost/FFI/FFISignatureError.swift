/// Why a typed export's signature text was refused, and where.
///
/// Its description is written to follow the loader's prefix, e.g.
/// `export add: signature "i64(i128)": unknown type "i128" at position 5`.
public struct FFISignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based character position in the signature text where the problem starts.
    public let position: Int
    /// What is wrong, without the position: `unknown type "i128"`.
    public let message: String

    public init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "\(message) at position \(position)" }
}
