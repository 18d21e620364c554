import Foundation

/// An asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/): a header line, then
/// one `[seconds, "o"|"i", text]` line per record, times relative to the first record. Text is
/// decoded per direction with `UTF8Stream`, so a character split across two records comes out
/// whole and bytes that are not UTF-8 become U+FFFD.
public struct Asciicast {
    var lines: [String] = []
    var firstMs: UInt64?
    var decoders = [UTF8Stream(), UTF8Stream()]
    var lastSeconds = 0.0

    public init(attrs: [String: String], startedAtMs: Int64?) {
        let width = attrs["cols"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 80
        let height = attrs["rows"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 24
        var header = "{\"version\":2,\"width\":\(width),\"height\":\(height)"
        if let startedAtMs { header += ",\"timestamp\":\(startedAtMs / 1000)" }
        lines.append(header + "}")
    }

    public mutating func add(_ record: StreamRecord) {
        let first = firstMs ?? record.timestampMs
        firstMs = first
        let index = record.direction == 0 ? 0 : 1
        let text = decoders[index].decode(record.data)
        let seconds = max(lastSeconds, Double(record.timestampMs >= first ? record.timestampMs - first : 0) / 1000)
        lastSeconds = seconds
        guard !text.isEmpty else { return }
        lines.append(Self.event(seconds, index == 0 ? "i" : "o", text))
    }

    public mutating func finish() -> String {
        for (index, code) in [(0, "i"), (1, "o")] {
            let rest = decoders[index].finish()
            if !rest.isEmpty { lines.append(Self.event(lastSeconds, code, rest)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func event(_ seconds: Double, _ code: String, _ text: String) -> String {
        let json = (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        return "[\(String(format: "%.3f", seconds)), \"\(code)\", \(json)]"
    }
}
