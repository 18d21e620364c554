/// A parsed typed-export signature: `"<result>(<param>,<param>,...)"`, as in `"i64(i64,i64)"`.
///
/// Spaces and tabs are allowed around type names, commas and parentheses; `"void()"` takes no
/// parameters. `void` may only be the result, `bytes` only a parameter. Type names are
/// case-sensitive (`FFIType.spelling`).
///
/// ```swift
/// let signature = try FFISignature(parsing: "f64( f64 , i32 )")
/// signature.parameters  // [.f64, .i32]
/// try FFISignature(parsing: "i64(i128)")  // throws: unknown type "i128" at position 5
/// ```
struct FFISignature: Sendable, Equatable, CustomStringConvertible {
    /// The most parameters a signature may declare; bounds the per-call scratch space.
    static let maximumParameterCount = 32

    let result: FFIType
    let parameters: [FFIType]

    init(result: FFIType, parameters: [FFIType]) {
        self.result = result
        self.parameters = parameters
    }

    /// Parses `text`, or throws naming the 1-based character position of the first problem.
    init(parsing text: String) throws(FFISignatureError) {
        var parser = Parser(Array(text))
        (result, parameters) = try parser.parse()
    }

    /// The canonical spelling, without spaces: `"i64(i64,i64)"`.
    var description: String {
        "\(result.spelling)(\(parameters.map(\.spelling).joined(separator: ",")))"
    }

    /// The number of C parameters of the function (`bytes` counts twice).
    var cParameterCount: Int { parameters.reduce(0) { $0 + $1.cParameterCount } }

    /// Reads the text left to right, one character at a time: the grammar has no nesting.
    private struct Parser {
        let characters: [Character]
        var index = 0

        init(_ characters: [Character]) {
            self.characters = characters
        }

        mutating func parse() throws(FFISignatureError) -> (FFIType, [FFIType]) {
            skipSpaces()
            let resultStart = index
            let resultName = name()
            if resultName.isEmpty {
                throw failure(atEnd() ? "missing the result type" : "expected a result type, found \(found())")
            }
            let result = try type(resultName, at: resultStart)
            if result == .bytes {
                throw FFISignatureError(position: resultStart + 1, message: "bytes is not allowed as a result (only as a parameter)")
            }
            skipSpaces()
            guard !atEnd() else { throw failure("missing \"(\" after the result type") }
            guard characters[index] == "(" else { throw failure("expected \"(\" after the result type, found \(found())") }
            index += 1
            skipSpaces()
            var parameters: [FFIType] = []
            if !atEnd(), characters[index] == ")" {
                index += 1
            } else {
                while true {
                    skipSpaces()
                    let start = index
                    let parameterName = name()
                    if parameterName.isEmpty {
                        if atEnd() { throw failure("missing \")\"") }
                        if characters[index] == "," || characters[index] == ")" { throw failure("empty parameter") }
                        throw failure("expected a parameter type, found \(found())")
                    }
                    let parameter = try type(parameterName, at: start)
                    if parameter == .void {
                        throw FFISignatureError(position: start + 1, message: "void is not allowed as a parameter (only as the result)")
                    }
                    guard parameters.count < FFISignature.maximumParameterCount else {
                        throw FFISignatureError(
                            position: start + 1, message: "more than \(FFISignature.maximumParameterCount) parameters")
                    }
                    parameters.append(parameter)
                    skipSpaces()
                    guard !atEnd() else { throw failure("missing \")\"") }
                    if characters[index] == "," {
                        index += 1
                    } else if characters[index] == ")" {
                        index += 1
                        break
                    } else {
                        throw failure("expected \",\" or \")\" after a parameter type, found \(found())")
                    }
                }
            }
            skipSpaces()
            guard atEnd() else { throw failure("unexpected \(found()) after \")\"") }
            return (result, parameters)
        }

        private func atEnd() -> Bool { index == characters.count }

        /// The character at `index`, quoted for a message.
        private func found() -> String { "\"\(characters[index])\"" }

        private func failure(_ message: String) -> FFISignatureError {
            FFISignatureError(position: index + 1, message: message)
        }

        private mutating func skipSpaces() {
            while !atEnd(), characters[index] == " " || characters[index] == "\t" { index += 1 }
        }

        /// A run of `[A-Za-z0-9_]`, possibly empty.
        private mutating func name() -> String {
            let start = index
            while !atEnd(), let ascii = characters[index].asciiValue,
                ascii == UInt8(ascii: "_") || (ascii >= UInt8(ascii: "0") && ascii <= UInt8(ascii: "9"))
                    || (ascii | 0x20 >= UInt8(ascii: "a") && ascii | 0x20 <= UInt8(ascii: "z"))
            {
                index += 1
            }
            return String(characters[start..<index])
        }

        private func type(_ name: String, at start: Int) throws(FFISignatureError) -> FFIType {
            guard let type = FFIType(spelling: name) else {
                throw FFISignatureError(position: start + 1, message: "unknown type \"\(name)\"")
            }
            return type
        }
    }
}
