import Foundation

/// A child process with raw pipes; the client side reads and writes its fds directly.
final class Child: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()

    init(_ executable: URL, _ arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    var writeFD: Int32 { input.fileHandleForWriting.fileDescriptor }
    var readFD: Int32 { output.fileHandleForReading.fileDescriptor }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(writeFD, raw.baseAddress! + offset, raw.count - offset)
                guard n > 0 else { return }
                offset += n
            }
        }
    }

    /// Reads until `count` newlines have arrived.
    func readLines(_ count: Int, buffer: UnsafeMutableRawBufferPointer) {
        var seen = 0
        while seen < count {
            let n = read(readFD, buffer.baseAddress!, buffer.count)
            guard n > 0 else { fatalError("child closed its output after \(seen) of \(count) lines") }
            for byte in UnsafeRawBufferPointer(rebasing: buffer[0..<n]) where byte == 0x0A { seen += 1 }
        }
    }

    /// Reads one line (without its newline), buffering what comes after it.
    func readLine() -> String {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(readFD, &chunk, chunk.count)
            guard n > 0 else { fatalError("child closed its output") }
            pending.append(contentsOf: chunk[0..<n])
        }
    }
    private var pending: [UInt8] = []

    func send(_ line: String) {
        write(Array((line + "\n").utf8))
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
