/// Why a typed export could not be prepared although its signature parsed: its parameter
/// names do not fit the signature, or libffi refused the call interface.
///
/// Its description follows the loader's prefix like `FFISignatureError`'s does:
/// `export add: signature "i64(i64,i64)": param_names lists 3 names for 2 parameters`.
public struct TypedExportError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
