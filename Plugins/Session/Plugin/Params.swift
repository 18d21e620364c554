import Foundation
import ModHostPluginSDK
import ModuleKit
import SessionCore

/// `attrs`: an object whose values are strings (numbers and booleans are kept as their text,
/// since omnish's meta.json holds strings).
struct Attrs: Decodable, Sendable {
    let strings: [String: String]

    init(from decoder: any Decoder) throws {
        let raw = try [String: Scalar].init(from: decoder)
        strings = raw.mapValues(\.text)
    }

    struct Scalar: Decodable, Sendable {
        let text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { text = s }
            else if let i = try? c.decode(Int64.self) { text = String(i) }
            else if let d = try? c.decode(Double.self) { text = String(d) }
            else if let b = try? c.decode(Bool.self) { text = String(b) }
            else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "an attribute must be a string, a number or a boolean") }
        }
    }
}

struct RegisterParams: Decodable, Sendable { let sessionId: String; let parentSessionId: String?; let attrs: Attrs? }
struct UpdateParams: Decodable, Sendable { let sessionId: String; let attrs: Attrs }
struct IDParams: Decodable, Sendable { let sessionId: String }
struct EndParams: Decodable, Sendable { let sessionId: String; let exitCode: Int32? }
struct CompleteParams: Decodable, Sendable { let sessionId: String; let record: CommandInput }
struct ContextParams: Decodable, Sendable { let sessionId: String; let scope: String?; let maxChars: Int? }
struct ExportParams: Decodable, Sendable { let sessionId: String; let format: String }
struct EvictParams: Decodable, Sendable { let hours: Double? }
struct CleanupParams: Decodable, Sendable { let olderThanHours: Double? }

/// One I/O record as it comes over the wire: data in base64.
struct WireRecord: Decodable, Sendable {
    let timestampMs: UInt64
    let direction: UInt8
    let data: String

    func record(limit: Int, field: String) throws -> IORecord {
        guard direction <= 1 else { throw PluginError.invalidParams("\(field.replacingOccurrences(of: "data", with: "direction")) must be 0 (input) or 1 (output)") }
        guard data.utf8.count <= (limit + 2) / 3 * 4 + 4, let bytes = Data(base64Encoded: data) else {
            throw PluginError.invalidParams("\(field) must be base64 of at most \(limit) bytes")
        }
        guard bytes.count <= limit else { throw PluginError.invalidParams("\(field) decodes to \(bytes.count) bytes; the limit is \(limit)") }
        return IORecord(timestampMs: timestampMs, direction: direction, data: [UInt8](bytes))
    }
}

struct WriteParams: Decodable, Sendable {
    let sessionId: String
    let timestampMs: UInt64
    let direction: UInt8
    let data: String

    func record(limit: Int, field: String) throws -> IORecord {
        try WireRecord(timestampMs: timestampMs, direction: direction, data: data).record(limit: limit, field: field)
    }
}

struct BatchParams: Decodable, Sendable {
    let sessionId: String
    let records: [WireRecord]

    func decoded() throws -> [IORecord] {
        guard records.count <= SessionEngine.maxBatchRecords else {
            throw PluginError.invalidParams("records holds \(records.count) records; the limit is \(SessionEngine.maxBatchRecords)")
        }
        var total = 0
        return try records.enumerated().map { i, wire in
            let record = try wire.record(limit: SessionEngine.maxWriteBytes, field: "records[\(i)].data")
            total += record.data.count
            guard total <= SessionEngine.maxBatchBytes else {
                throw PluginError.invalidParams("records hold more than \(SessionEngine.maxBatchBytes) bytes of data; split the batch")
            }
            return record
        }
    }
}
