import Foundation

/// The module's files, omnish's layout under the module's data directory: a directory per
/// session (`SessionTime.directoryName`) with `meta.json`, `commands.json` and `stream.bin`, and
/// `corrupt/` for directories that could not be read. The only part of the core that touches
/// the disk; a shadow instance gets one with `writable: false`, which reads and never writes.
///
/// JSON files are replaced by temp file, fsync and rename, so a crash leaves the old or the new
/// file, never half of one. `stream.bin` is only appended to, whole records at a time.
public struct SessionDisk: Sendable {
    public let root: String
    public let writable: Bool

    public init(root: String, writable: Bool) {
        self.root = root
        self.writable = writable
    }

    public func path(_ directory: String, _ file: String) -> String { "\(root)/\(directory)/\(file)" }

    /// What a session directory holds, read back at start or on use after an eviction.
    public struct Loaded: Sendable {
        public var meta: SessionMeta
        public var commands: [CommandRecord]
        public var streamSize: UInt64
        /// Bytes of a torn last record cut off (0 when the file ended on a record boundary).
        public var cutBytes: Int
    }

    /// The session directory names under the root (everything but `corrupt` and dotfiles).
    public func directories() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "corrupt" && $0.contains("_") }.sorted()
    }

    /// Creates the directory, its `meta.json` and an empty `stream.bin`.
    public func create(_ directory: String, meta: SessionMeta) throws {
        guard writable else { return }
        // Recordings may hold what was typed and shown, secrets included: owner only.
        try FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try writeJSON(meta, to: path(directory, "meta.json"))
        if !FileManager.default.fileExists(atPath: path(directory, "stream.bin")) {
            guard FileManager.default.createFile(atPath: path(directory, "stream.bin"), contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw DiskError("could not create \(path(directory, "stream.bin"))")
            }
        }
    }

    /// Reads a directory back; a torn tail of `stream.bin` is cut to the last whole record.
    public func load(_ directory: String) throws -> Loaded {
        let decoder = JSONDecoder()
        let meta = try decoder.decode(SessionMeta.self, from: Data(contentsOf: URL(fileURLWithPath: path(directory, "meta.json"))))
        let commandsPath = path(directory, "commands.json")
        let commands = FileManager.default.fileExists(atPath: commandsPath)
            ? try decoder.decode([CommandRecord].self, from: Data(contentsOf: URL(fileURLWithPath: commandsPath))) : []
        let streamPath = path(directory, "stream.bin")
        guard FileManager.default.fileExists(atPath: streamPath) else {
            return Loaded(meta: meta, commands: commands, streamSize: 0, cutBytes: 0)
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: streamPath), options: .alwaysMapped)
        let valid = bytes.withUnsafeBytes { raw in Self.wholeRecordsLength(raw.bindMemory(to: UInt8.self)) }
        let cut = bytes.count - valid
        if cut > 0, writable {
            guard truncate(streamPath, off_t(valid)) == 0 else { throw DiskError("could not cut the torn tail of \(streamPath): errno \(errno)") }
        }
        return Loaded(meta: meta, commands: commands, streamSize: UInt64(valid), cutBytes: cut)
    }

    /// The length of the whole records at the start of `bytes`, walking headers only.
    static func wholeRecordsLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var position = 0
        while bytes.count - position >= StreamRecord.headerSize {
            var length = 0
            for i in 9..<13 { length = length << 8 | Int(bytes[position + i]) }
            guard bytes.count - position - StreamRecord.headerSize >= length else { break }
            position += StreamRecord.headerSize + length
        }
        return position
    }

    /// Appends whole records' bytes to `stream.bin` (one `write` loop on an O_APPEND descriptor).
    public func append(_ directory: String, _ bytes: [UInt8]) throws {
        guard writable, !bytes.isEmpty else { return }
        let file = path(directory, "stream.bin")
        let fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DiskError("could not open \(file): errno \(errno)") }
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw DiskError("could not append to \(file): errno \(errno)") }
                done += n
            }
        }
    }

    /// `length` bytes of `stream.bin` from `offset` (fewer at the end of the file).
    public func readStream(_ directory: String, offset: UInt64, length: Int) throws -> [UInt8] {
        guard length > 0 else { return [] }
        let file = path(directory, "stream.bin")
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset) + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return Array(out[0..<done])
    }

    public func writeMeta(_ directory: String, _ meta: SessionMeta) throws {
        guard writable else { return }
        try writeJSON(meta, to: path(directory, "meta.json"))
    }

    public func writeCommands(_ directory: String, _ commands: [CommandRecord]) throws {
        guard writable else { return }
        try writeJSON(commands, to: path(directory, "commands.json"))
    }

    /// Moves an unreadable directory to `corrupt/` (a numbered name if one is there already).
    @discardableResult
    public func moveAside(_ directory: String) throws -> String {
        guard writable else { return "\(root)/corrupt/\(directory)" }
        try FileManager.default.createDirectory(atPath: "\(root)/corrupt", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var target = "\(root)/corrupt/\(directory)"
        var n = 1
        while FileManager.default.fileExists(atPath: target) { target = "\(root)/corrupt/\(directory).\(n)"; n += 1 }
        try FileManager.default.moveItem(atPath: "\(root)/\(directory)", toPath: target)
        return target
    }

    public func remove(_ directory: String) throws {
        guard writable else { return }
        try FileManager.default.removeItem(atPath: "\(root)/\(directory)")
    }

    /// Temp file in the same directory, fsync, rename: omnish's pretty JSON, all or nothing.
    func writeJSON(_ value: some Encodable, to file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        let temp = file + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DiskError("could not write \(temp): errno \(errno)") }
        let ok = data.withUnsafeBytes { raw in write(fd, raw.baseAddress, raw.count) == raw.count }
        fsync(fd)
        close(fd)
        guard ok, rename(temp, file) == 0 else { throw DiskError("could not replace \(file): errno \(errno)") }
    }
}

/// A file operation that failed, with the path and errno.
public struct DiskError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
