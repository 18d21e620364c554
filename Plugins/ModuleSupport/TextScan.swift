/// Small byte-level readers for text parsers (durations, dates, hints in bodies): ASCII only,
/// no allocation per character.
public struct TextScan {
    public let bytes: [UInt8]
    public var position: Int

    public init(_ bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public init(_ text: some StringProtocol) {
        self.init(Array(text.utf8))
    }

    public var atEnd: Bool { position >= bytes.count }
    public var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    public mutating func skipSpaces() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    /// Consumes `byte` if it is next.
    public mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        position += 1
        return true
    }

    /// Reads exactly `count` decimal digits.
    public mutating func digits(_ count: Int) -> Int? {
        guard position + count <= bytes.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = bytes[position + offset]
            guard byte.isDigit else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        position += count
        return value
    }

    /// Reads 1 to 18 digits, returning the value and how many were read; nil (position
    /// unchanged) when there are none or more.
    public mutating func number() -> (value: Int64, count: Int)? {
        let start = position
        var value: Int64 = 0
        var count = 0
        while let byte = peek, byte.isDigit {
            guard count < 18 else {
                position = start
                return nil
            }
            value = value * 10 + Int64(byte - 0x30)
            count += 1
            position += 1
        }
        return count > 0 ? (value, count) : nil
    }

    /// Reads a non-negative decimal like `12`, `1.5`, `.25`, as thousandths (rounded up), so
    /// seconds become milliseconds exactly.
    public mutating func decimalThousandths() -> Int64? {
        let start = position
        if peek?.isDigit == true, number() == nil { return nil }  // too many digits
        position = start
        let whole = number()?.value ?? 0
        var fraction: Int64 = 0
        var scale: Int64 = 1000
        var roundUp = false
        if peek == 0x2E, position + 1 < bytes.count, bytes[position + 1].isDigit {
            position += 1
            while let byte = peek, byte.isDigit {
                if scale > 1 {
                    scale /= 10
                    fraction += Int64(byte - 0x30) * scale
                } else if byte != 0x30 {
                    roundUp = true
                }
                position += 1
            }
        }
        guard position > start, whole < 1_000_000_000_000 else {
            position = start
            return nil
        }
        return whole * 1000 + fraction + (roundUp ? 1 : 0)
    }

    /// Reads a run of ASCII letters, lowercased.
    public mutating func word() -> String {
        let start = position
        while let byte = peek, byte.isLetter { position += 1 }
        return String(decoding: bytes[start..<position].lazy.map(\.lowercased), as: UTF8.self)
    }
}

extension UInt8 {
    public var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    public var isLetter: Bool { (self | 0x20) >= 0x61 && (self | 0x20) <= 0x7A }
    public var lowercased: UInt8 { self >= 0x41 && self <= 0x5A ? self | 0x20 : self }
}

extension Array where Element == UInt8 {
    /// The first index at or after `start` where `needle` (lowercase ASCII) occurs in these
    /// lowercased bytes.
    public func firstIndex(of needle: [UInt8], from start: Int = 0) -> Int? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var index = start
        let last = count - needle.count
        let first = needle[0]
        while index <= last {
            if self[index] == first {
                var offset = 1
                while offset < needle.count, self[index + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}
