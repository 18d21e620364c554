import Foundation
import ModHostTestKit

/// The session module through the real binary: `session.writeIo` (4 KiB a record) and
/// `session.writeIoBatch` (100 such records a call) pipelined, the JSON and base64 cost
/// included, in MB/s and records/s, beside writing the same records' bytes with a plain
/// buffered file write (64 KiB buffer) in the same run; then `session.context` on a session of
/// 10,000 commands.
struct SessionModuleBench {
    static let recordBytes = 4096
    let modhost: URL
    let library: String
    let records: Int

    func run() throws {
        let plugins = try TemporaryDirectory.make(prefix: "modhost-bench-session")
        try FileManager.default.copyItem(atPath: library, toPath: "\(plugins)/libSession.so")
        let state = try TemporaryDirectory.make(prefix: "modhost-bench-session-state")
        let host = try Child(modhost, ["--plugins", plugins, "--state-dir", state, "--log-level", "error"])
        defer { host.stop() }
        let payload = (0..<Self.recordBytes).map { UInt8(32 + $0 % 90) }
        let base64 = Data(payload).base64EncodedString()
        expect(host.call("session.register", #"{"sessionId":"bench","attrs":{}}"#))
        expect(host.call("session.register", #"{"sessionId":"batch","attrs":{}}"#))

        let single = pipelined(host, count: records) { i in
            ("session.writeIo", #"{"sessionId":"bench","timestampMs":\#(i),"direction":1,"data":"\#(base64)"}"#)
        }
        let batchRecord = #"{"timestampMs":1,"direction":1,"data":"\#(base64)"}"#
        let batchParams = #"{"sessionId":"batch","records":[\#(Array(repeating: batchRecord, count: 100).joined(separator: ","))]}"#
        let batch = pipelined(host, count: records / 100) { _ in ("session.writeIoBatch", batchParams) }
        let plain = try plainWrite(payload, count: records)
        let mb = Double(records * Self.recordBytes) / 1e6
        print("Session module, \(records) records of \(Self.recordBytes) bytes (\(String(format: "%.0f", mb)) MB), pipelined, JSON and base64 included")
        print(String(format: "  session.writeIo           %7.1f MB/s  %8.0f records/s", mb / single, Double(records) / single))
        print(String(format: "  session.writeIoBatch(100) %7.1f MB/s  %8.0f records/s", mb / batch, Double(records) / batch))
        print(String(format: "  plain buffered file write %7.1f MB/s  %8.0f records/s  (same bytes, same run)", mb / plain, Double(records) / plain))

        expect(host.call("session.register", #"{"sessionId":"ctx","attrs":{}}"#))
        let commands = 10_000
        let output = Data((0..<30).map { "output line \($0) of the command\r\n" }.joined().utf8).base64EncodedString()
        for i in 0..<commands {
            host.send(#"{"jsonrpc":"2.0","id":"w","method":"session.writeIo","params":{"sessionId":"ctx","timestampMs":\#(i),"direction":1,"data":"\#(output)"}}"#)
            host.send(#"{"jsonrpc":"2.0","id":"c","method":"session.commandComplete","params":{"sessionId":"ctx","record":{"commandId":"c\#(i)","commandLine":"make target\#(i)","startedAt":\#(i),"endedAt":\#(i + 1),"exitCode":0}}}"#)
            if i % 100 == 99 { for _ in 0..<200 { expect(host.readLine()) } }
        }
        var times: [Double] = []
        var chars = ""
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let line = host.call("session.context", #"{"sessionId":"ctx","scope":"current"}"#)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            expect(line)
            chars = line.range(of: #""chars":\d+"#, options: .regularExpression).map { String(line[$0]) } ?? "?"
        }
        print(String(format: "  session.context, %d commands: median %.1f ms (best %.1f ms; %@)", commands, times.sorted()[2], times.min()!, chars))
    }

    /// Seconds for `count` calls sent in windows of 256 before their answers are read.
    private func pipelined(_ host: Child, count: Int, _ request: (Int) -> (String, String)) -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        while sent < count {
            let window = min(256, count - sent)
            for i in sent..<sent + window {
                let (method, params) = request(i)
                host.send(#"{"jsonrpc":"2.0","id":\#(i),"method":"\#(method)","params":\#(params)}"#)
            }
            for _ in 0..<window { expect(host.readLine()) }
            sent += window
        }
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// Seconds to write the same records (13-byte header and payload) through a 64 KiB buffer.
    private func plainWrite(_ payload: [UInt8], count: Int) throws -> Double {
        let path = try TemporaryDirectory.make(prefix: "modhost-bench-plain") + "/stream.bin"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let started = DispatchTime.now().uptimeNanoseconds
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        for i in 0..<count {
            let ts = UInt64(i), length = UInt32(payload.count)
            for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: ts >> UInt64(shift))) }
            buffer.append(1)
            for shift in stride(from: 24, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
            buffer.append(contentsOf: payload)
            if buffer.count >= 1 << 16 { handle.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
        }
        handle.write(Data(buffer))
        try handle.close()
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    private func expect(_ line: String) {
        guard line.contains(#""result""#) else { fatalError("call failed: \(line.prefix(300))") }
    }

}
