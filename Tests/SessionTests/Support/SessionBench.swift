import Foundation
import ModHostTestKit

/// A host serving the session module on a manual clock (2026-01-01T00:00:00Z), with the
/// `session` config section given, and helpers for its files. Nothing sleeps.
struct SessionBench {
    static let start = ModuleHarness.defaultStart

    let harness: ModuleHarness
    var host: HostProcess { harness.host }

    init(config: [String: JSON] = [:], extraArguments: [String] = []) throws {
        harness = try ModuleHarness(modules: ["libSession.so"], config: config.isEmpty ? [:] : ["session": .object(config)],
                                    extraArguments: extraArguments)
    }

    init(_ harness: ModuleHarness) { self.harness = harness }

    /// The module's data directory: `<state>/data/<server-id>/session`.
    var dataDirectory: String {
        let data = "\(host.stateDirectory)/data"
        let servers = (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []
        return servers.map { "\(data)/\($0)/session" }.first { FileManager.default.fileExists(atPath: $0) } ?? "\(data)/?/session"
    }

    /// The directory of session `id` (from `session.get`).
    func directory(_ id: String) throws -> String {
        "\(dataDirectory)/\(try host.call("session.get", ["sessionId": .string(id)])["directory"].string ?? "?")"
    }

    @discardableResult
    func register(_ id: String, attrs: [String: JSON] = [:]) throws -> JSON {
        try host.call("session.register", ["sessionId": .string(id), "attrs": .object(attrs)])
    }

    @discardableResult
    func write(_ id: String, _ text: String, at ms: Int64 = start, direction: Int64 = 1) throws -> JSON {
        try writeBytes(id, Array(text.utf8), at: ms, direction: direction)
    }

    @discardableResult
    func writeBytes(_ id: String, _ bytes: [UInt8], at ms: Int64 = start, direction: Int64 = 1) throws -> JSON {
        try host.call("session.writeIo", ["sessionId": .string(id), "timestampMs": .int(ms), "direction": .int(direction),
                                          "data": .string(Data(bytes).base64EncodedString())])
    }

    @discardableResult
    func complete(_ id: String, _ commandId: String, _ line: String, exitCode: Int64? = 0, at ms: Int64 = start) throws -> JSON {
        var record: [String: JSON] = ["commandId": .string(commandId), "commandLine": .string(line), "startedAt": .int(ms), "endedAt": .int(ms + 10)]
        if let exitCode { record["exitCode"] = .int(exitCode) }
        return try host.call("session.commandComplete", ["sessionId": .string(id), "record": .object(record)])
    }

    /// The records of a `stream.bin`, read as omnish's `read_entries` does (big-endian header).
    static func omnishEntries(_ path: String) throws -> [(ts: UInt64, dir: UInt8, data: [UInt8])] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var out: [(UInt64, UInt8, [UInt8])] = []
        var pos = 0
        while pos + 13 <= bytes.count {
            let ts = bytes[pos..<pos + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let len = Int(bytes[pos + 9..<pos + 13].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard pos + 13 + len <= bytes.count else { break }
            out.append((ts, bytes[pos + 8], Array(bytes[pos + 13..<pos + 13 + len])))
            pos += 13 + len
        }
        return out
    }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
