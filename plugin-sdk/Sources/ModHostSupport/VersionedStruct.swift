/// Reading a C struct that another binary built, against an older or a newer `modhost.h`.
///
/// Every struct crossing the ABI begins with `uint32_t abi_version; uint32_t struct_size;`,
/// and minor versions only append fields (`modhost.h`, "Versions"). The other side's struct
/// may therefore be shorter than ours (an older minor: our last fields are absent) or longer
/// (a newer minor: its last fields are unknown to us). `copy` reads exactly the bytes both
/// sides have, `min(struct_size, MemoryLayout<T>.size)`, into a zeroed `T`, so it never reads
/// past what the other side built (a 1.0 descriptor may end right before an unmapped page)
/// and an absent field reads as zero or NULL. The host reads every plugin-owned struct this
/// way, the Swift SDK every host-owned one.
///
///     let header = VersionedStruct.header(at: pointer)
///     let plugin = VersionedStruct.copy(mh_plugin.self, from: pointer, size: header.size)
///     if VersionedStruct.covers(\mh_plugin.exports_v2, size: header.size) { … }
public enum VersionedStruct {
    /// The two leading fields every ABI struct has: `abi_version` and `struct_size`.
    public struct Header: Sendable, Equatable {
        public let abiVersion: UInt32
        public let size: Int

        public init(abiVersion: UInt32, size: Int) {
            self.abiVersion = abiVersion
            self.size = size
        }

        /// `"1.2"`.
        public var versionText: String { VersionedStruct.versionText(abiVersion) }
    }

    /// Reads the 8-byte header at `pointer` (which every version of every ABI struct has).
    @inlinable
    public static func header(at pointer: UnsafeRawPointer) -> Header {
        let (abi, size) = pointer.loadUnaligned(as: (UInt32, UInt32).self)
        return Header(abiVersion: abi, size: Int(size))
    }

    /// Copies `min(size, MemoryLayout<T>.size)` bytes at `pointer` into a zeroed `T`.
    ///
    /// - Parameters:
    ///   - type: a C struct imported into Swift (a trivial type: no references inside).
    ///   - size: the struct's own `struct_size`, as its builder wrote it.
    @inlinable
    public static func copy<T>(_ type: T.Type, from pointer: UnsafeRawPointer, size: Int) -> T {
        precondition(_isPOD(T.self), "VersionedStruct.copy reads C structs only")
        let count = min(max(size, 0), MemoryLayout<T>.size)
        return withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) { buffer in
            let base = buffer.baseAddress!
            base.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
            base.copyMemory(from: pointer, byteCount: count)
            return base.load(as: T.self)
        }
    }

    /// Where `field` ends in our `T`: its offset plus its size, the `struct_size` that covers it.
    @inlinable
    public static func end<T, F>(of field: KeyPath<T, F>) -> Int {
        MemoryLayout<T>.offset(of: field)! + MemoryLayout<F>.size
    }

    /// Whether a struct of `size` bytes (its `struct_size`) holds `field`.
    @inlinable
    public static func covers<T, F>(_ field: KeyPath<T, F>, size: Int) -> Bool {
        size >= end(of: field)
    }

    /// `"major.minor"` of an `abi_version` value.
    public static func versionText(_ abiVersion: UInt32) -> String {
        "\(abiVersion >> 16).\(abiVersion & 0xFFFF)"
    }
}
