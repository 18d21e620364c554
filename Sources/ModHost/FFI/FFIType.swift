import CFFI

/// One type of a typed export's signature (`modhost.h`, "Typed exports"), with its spelling
/// and the libffi types it passes as.
///
/// Every type is one C value, except `bytes`, which is two C parameters (`const uint8_t *`,
/// `size_t`). `void` is valid only as a result, `bytes` only as a parameter.
enum FFIType: CaseIterable, Sendable {
    case void, bool
    case i8, i16, i32, i64
    case u8, u16, u32, u64
    case f32, f64
    case str, bytes

    /// The type spelled `spelling` in a signature (case-sensitive), or nil.
    init?(spelling: some StringProtocol) {
        guard let found = Self.allCases.first(where: { $0.spelling == spelling }) else { return nil }
        self = found
    }

    /// How a signature spells the type.
    var spelling: String {
        switch self {
        case .void: "void"
        case .bool: "bool"
        case .i8: "i8"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .u8: "u8"
        case .u16: "u16"
        case .u32: "u32"
        case .u64: "u64"
        case .f32: "f32"
        case .f64: "f64"
        case .str: "str"
        case .bytes: "bytes"
        }
    }

    /// The libffi types of the C parameters this type occupies: two for `bytes` (pointer and
    /// `size_t`, which is `uint64` on 64-bit platforms), none for `void`, one otherwise.
    var parameterTypes: [UnsafeMutablePointer<ffi_type>] {
        switch self {
        case .void: []
        case .bytes: [mh_ffi_type_pointer(), MemoryLayout<Int>.size == 8 ? mh_ffi_type_uint64() : mh_ffi_type_uint32()]
        default: [resultType]
        }
    }

    /// The libffi type of a result (or of a one-value parameter) of this type. C `bool` is one
    /// byte on the platforms modhost runs on and passes as `uint8`; `bytes` has no single type
    /// and answers `pointer`, its first half.
    var resultType: UnsafeMutablePointer<ffi_type> {
        switch self {
        case .void: mh_ffi_type_void()
        case .bool, .u8: mh_ffi_type_uint8()
        case .i8: mh_ffi_type_sint8()
        case .i16: mh_ffi_type_sint16()
        case .u16: mh_ffi_type_uint16()
        case .i32: mh_ffi_type_sint32()
        case .u32: mh_ffi_type_uint32()
        case .i64: mh_ffi_type_sint64()
        case .u64: mh_ffi_type_uint64()
        case .f32: mh_ffi_type_float()
        case .f64: mh_ffi_type_double()
        case .str, .bytes: mh_ffi_type_pointer()
        }
    }

    /// The number of C parameters one parameter of this type occupies.
    var cParameterCount: Int {
        switch self {
        case .void: 0
        case .bytes: 2
        default: 1
        }
    }

    /// True for the fixed-width integer types.
    var isInteger: Bool {
        switch self {
        case .i8, .i16, .i32, .i64, .u8, .u16, .u32, .u64: true
        default: false
        }
    }
}
