#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Borrowing Swift text and bytes as the (pointer, length) pairs the ABI takes.

extension String {
    /// Calls `body` with the string's UTF-8 bytes, valid for the duration of the call.
    func withCBytes<R>(_ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
        var text = self
        return try text.withUTF8 { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress, $0.count) }
        }
    }

    /// A copy of `count` UTF-8 bytes at `pointer` (an empty string for `nil`).
    init(cBytes pointer: UnsafePointer<CChar>?, count: Int) {
        guard let pointer, count > 0 else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// Copies the string into a NUL-terminated C string that is never freed (descriptor text).
    func leakedCString() -> UnsafePointer<CChar> {
        let utf8 = utf8CString
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        utf8.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: $0.count) }
        return UnsafePointer(copy)
    }
}

extension Data {
    /// Calls `body` with the bytes, valid for the duration of the call.
    func withCBytes<R>(_ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
        try withUnsafeBytes { buffer in
            try body(buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count)
        }
    }

    /// A copy of `count` bytes at `pointer` (empty for `nil`).
    init(cBytes pointer: UnsafePointer<CChar>?, count: Int) {
        guard let pointer, count > 0 else {
            self = Data()
            return
        }
        self = Data(bytes: pointer, count: count)
    }
}
