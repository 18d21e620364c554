import Foundation
import SessionCore
import Testing

/// omnish's stream format (crates/omnish-store/src/stream.rs), its reader's loop written out:
/// `while pos + 13 <= len { ts = u64::from_be_bytes(..8); dir = [8]; len = u32::from_be_bytes(9..13) }`.
@Suite struct StreamRecordTests {
    @Test func roundTripsThroughOmnishsByteOrder() {
        var bytes: [UInt8] = []
        StreamRecord(timestampMs: 0x0102_0304_0506_0708, direction: 1, data: Array("héllo".utf8)).encode(into: &bytes)
        StreamRecord(timestampMs: 9, direction: 0, data: []).encode(into: &bytes)
        #expect(Array(bytes[0..<13]) == [1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 0, 6])
        let decoded = StreamRecord.decode(bytes)
        #expect(decoded.validLength == bytes.count)
        #expect(decoded.records == [StreamRecord(timestampMs: 0x0102_0304_0506_0708, direction: 1, data: Array("héllo".utf8)),
                                    StreamRecord(timestampMs: 9, direction: 0, data: [])])
    }

    @Test func aTornTailIsLeftOutAsOmnishsReaderLeavesIt() {
        var bytes: [UInt8] = []
        StreamRecord(timestampMs: 1, direction: 1, data: [1, 2, 3]).encode(into: &bytes)
        let whole = bytes.count
        StreamRecord(timestampMs: 2, direction: 1, data: [4, 5, 6, 7]).encode(into: &bytes)
        for cut in [1, 4, 13, 16] {
            let torn = Array(bytes.prefix(whole + cut))
            #expect(StreamRecord.decode(torn).validLength == whole, "cut \(cut)")
        }
    }
}
