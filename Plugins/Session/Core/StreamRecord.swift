/// One record of omnish's `stream.bin` (crates/omnish-store/src/stream.rs): big-endian u64
/// timestamp ms, u8 direction (0 input, 1 output), big-endian u32 length, the bytes.
public struct StreamRecord: Sendable, Equatable {
    public static let headerSize = 13

    public var timestampMs: UInt64
    public var direction: UInt8
    public var data: [UInt8]

    public init(timestampMs: UInt64, direction: UInt8, data: [UInt8]) {
        self.timestampMs = timestampMs
        self.direction = direction
        self.data = data
    }

    /// The record's bytes on disk.
    public var encodedSize: Int { Self.headerSize + data.count }

    /// Appends the record's on-disk bytes to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + encodedSize)
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: timestampMs >> UInt64(shift))) }
        buffer.append(direction)
        let length = UInt32(data.count)
        for shift in stride(from: 24, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        buffer.append(contentsOf: data)
    }

    /// The whole records at the start of `bytes`, and how many bytes they take: a torn tail
    /// (a header or a body cut short) is left out, as omnish's reader leaves it.
    public static func decode(_ bytes: some Collection<UInt8>) -> (records: [StreamRecord], validLength: Int) {
        var records: [StreamRecord] = []
        let length = scan(bytes) { records.append($0) }
        return (records, length)
    }

    /// Calls `body` with each whole record at the start of `bytes`; returns the length they take.
    @discardableResult
    public static func scan(_ bytes: some Collection<UInt8>, _ body: (StreamRecord) -> Void) -> Int {
        let array = Array(bytes)
        var position = 0
        while let size = wholeRecord(array, at: position) {
            let start = position + headerSize
            body(StreamRecord(timestampMs: readU64(array, position), direction: array[position + 8], data: Array(array[start..<position + size])))
            position += size
        }
        return position
    }

    /// The length of the whole record at `position`, or nil when none fits.
    public static func wholeRecord(_ bytes: [UInt8], at position: Int) -> Int? {
        guard bytes.count - position >= headerSize else { return nil }
        let length = Int(readU32(bytes, position + 9))
        guard bytes.count - position - headerSize >= length else { return nil }
        return headerSize + length
    }

    static func readU64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[at + $1]) }
    }

    static func readU32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[at + $1]) }
    }
}
