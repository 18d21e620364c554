import Foundation
import ModHostJSON

/// A strict pull reader for the small JSON objects the module stores, so a start-up with tens of
/// thousands of records does not spend its time in `JSONDecoder` (about 15 µs a record; this
/// reads one in about 1 µs). A thin client of the JSON toolkit's scanner, which validates
/// structure, strings and numbers as it goes.
///
/// It reads what `JSONEncoder` writes for the stored types: objects, strings (all escapes),
/// integers, booleans, `null`, and skips anything else that is valid JSON. Whatever it does not
/// expect (a fraction or an exponent where an integer belongs, a type mismatch, a lone UTF-16
/// surrogate, trailing bytes) makes it throw, and the caller falls back to `JSONDecoder`, which
/// then decides: so a record reads the same either way, only faster.
struct JSONPull {
    struct Mismatch: Error {}

    private var scanner: JSONScanner

    init(_ bytes: UnsafeRawBufferPointer) {
        scanner = JSONScanner(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Reads an object, calling `member` with each key (raw bytes between the quotes, escapes
    /// left as they are) while the reader stands at its value; `member` must read or `skip()` it.
    mutating func object(_ member: (inout JSONPull, UnsafeRawBufferPointer) throws -> Void) throws {
        try scanner.visitObject { scanner, key in
            var reader = JSONPull(scanner: scanner)
            try member(&reader, UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: scanner.bytes[key.contents])))
            scanner = reader.scanner
        }
    }

    /// After the top-level value: only white space may follow.
    mutating func end() throws {
        try scanner.expectEnd()
    }

    /// `null`, consumed; false (and nothing consumed) for anything else.
    mutating func null() -> Bool {
        guard scanner.next == UInt8(ascii: "n") else { return false }
        return (try? scanner.readLiteral()) == .null
    }

    mutating func bool() throws -> Bool {
        guard let value = try scanner.readLiteral().bool else { throw Mismatch() }
        return value
    }

    /// An integer written without fraction or exponent.
    mutating func int64() throws -> Int64 {
        let number = try scanner.readNumber()
        guard number.isInteger, case .int(let value) = JSONNumber.value(text(number.text), isInteger: true) else { throw Mismatch() }
        return value
    }

    mutating func int() throws -> Int {
        guard let value = Int(exactly: try int64()) else { throw Mismatch() }
        return value
    }

    mutating func string() throws -> String {
        let token = try scanner.readString()
        guard token.hasEscapes else { return scanner.string(token) }
        guard let text = JSONString.decode(text(token.contents), loneSurrogates: .refuse) else { throw Mismatch() }
        return text
    }

    /// Skips one value of any kind.
    mutating func skip() throws {
        try scanner.skipValue()
    }

    private init(scanner: JSONScanner) {
        self.scanner = scanner
    }

    private func text(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: scanner.bytes[range])
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly `literal` (an ASCII key).
    func equals(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.count == count else { return false }
        guard let base = baseAddress else { return count == 0 }
        return memcmp(base, literal.utf8Start, count) == 0
    }
}
