/// Reading JSON number text exactly: integers from their decimal digits, never through a
/// `Double`, so `18446744073709551615` and `-9223372036854775808` arrive as written.
public enum JSONNumber {
    /// The sign and magnitude of an integer written without fraction or exponent (`-12`, `0`);
    /// nil when `text` holds anything but an optional `-` and digits. `overflow` is set when
    /// the magnitude passes `UInt64.max` (the digits are still all checked, so `1e999…` style
    /// text is nil, not an overflow).
    public static func integer(_ text: UnsafeBufferPointer<UInt8>) -> (negative: Bool, magnitude: UInt64, overflow: Bool)? {
        guard !text.isEmpty else { return nil }
        let negative = text[0] == UInt8(ascii: "-")
        let first = negative ? 1 : 0
        guard first < text.count else { return nil }
        var magnitude: UInt64 = 0
        var overflow = false
        for index in first..<text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (tens, overflowed) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carried) = tens.addingReportingOverflow(UInt64(digit))
            overflow = overflow || overflowed || carried
            magnitude = sum
        }
        return (negative, magnitude, overflow)
    }

    /// The value of a number's text (valid JSON number syntax): `.int` for every integer that
    /// fits an `Int64`, `.uint` for those up to `UInt64.max`, `.double` for the rest (fractions,
    /// exponents, larger integers, and `-0`, which only a double can hold).
    public static func value(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool) -> JSONValue {
        if isInteger, let (negative, magnitude, overflow) = integer(text), !overflow {
            if !negative {
                return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : .uint(magnitude)
            }
            if magnitude == 0 { return .double(-0.0) }
            if magnitude <= UInt64(Int64.max) + 1 { return .int(Int64(bitPattern: 0 &- magnitude)) }
        }
        return .double(double(text))
    }

    /// The nearest `Double` to a number's text; ±infinity past the largest finite one.
    public static func double(_ text: UnsafeBufferPointer<UInt8>) -> Double {
        // Number texts are short: a small String, no allocation, parsed by the standard library.
        Double(String(decoding: text, as: UTF8.self)) ?? .nan
    }
}
