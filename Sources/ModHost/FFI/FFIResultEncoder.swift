import Foundation
import ModHostJSON

/// Turns the value a typed export returned into JSON text.
///
/// `void` is `null`, `bool` is `true`/`false`, integers are their decimal text, floats the
/// shortest text that reads back to the same value; a non-finite float is an internal error.
/// `str` results are handled by `string(_:export:)`, which the caller follows with `release`.
enum FFIResultEncoder {
    /// Encodes a result from the 64 bits of libffi's `ffi_arg`-sized return buffer: integers
    /// narrower than 64 bits fill all of it (libffi widens them), so they are narrowed here, which
    /// keeps the sign of i8, i16 and i32; a float sits in the buffer's first 4 bytes.
    static func encode(_ type: FFIType, _ bits: UInt64, export name: String) throws(RPCError) -> [UInt8] {
        switch type {
        case .void: return Array("null".utf8)
        case .bool: return Array((UInt8(truncatingIfNeeded: bits) != 0 ? "true" : "false").utf8)
        case .i8: return decimal(Int64(Int8(truncatingIfNeeded: bits)))
        case .i16: return decimal(Int64(Int16(truncatingIfNeeded: bits)))
        case .i32: return decimal(Int64(Int32(truncatingIfNeeded: bits)))
        case .i64: return decimal(Int64(bitPattern: bits))
        case .u8: return decimal(magnitude: UInt64(UInt8(truncatingIfNeeded: bits)), negative: false)
        case .u16: return decimal(magnitude: UInt64(UInt16(truncatingIfNeeded: bits)), negative: false)
        case .u32: return decimal(magnitude: UInt64(UInt32(truncatingIfNeeded: bits)), negative: false)
        case .u64: return decimal(magnitude: bits, negative: false)
        case .f32:
            var buffer = bits
            let value = withUnsafeBytes(of: &buffer) { $0.load(as: Float.self) }
            guard value.isFinite else { throw .internalError("result of \(name) is not finite") }
            return Array(value.description.utf8)
        case .f64:
            let value = Double(bitPattern: bits)
            guard value.isFinite else { throw .internalError("result of \(name) is not finite") }
            return Array(value.description.utf8)
        case .str:
            return try string(UnsafePointer(bitPattern: UInt(bits)), export: name)
        case .bytes:
            preconditionFailure("bytes is never a result")
        }
    }

    /// A `str` result, copied at once: a JSON string, `null` for NULL; invalid UTF-8 is an
    /// internal error.
    static func string(_ pointer: UnsafePointer<UInt8>?, export name: String) throws(RPCError) -> [UInt8] {
        guard let pointer else { return Array("null".utf8) }
        let bytes = UnsafeBufferPointer(start: pointer, count: strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self)))
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .internalError("result of \(name) is not valid UTF-8")
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 2)
        JSONString.append(text, to: &out)
        return out
    }

    private static func decimal(_ value: Int64) -> [UInt8] {
        decimal(magnitude: value.magnitude, negative: value < 0)
    }

    /// Decimal digits written straight into the result: one allocation, no `String`.
    private static func decimal(magnitude: UInt64, negative: Bool) -> [UInt8] {
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let count = digits + (negative ? 1 : 0)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if negative { buffer[0] = UInt8(ascii: "-") }
            var rest = magnitude
            for index in stride(from: count - 1, through: count - digits, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            initialized = count
        }
    }
}
