import Foundation

/// A plugin file opened once and checked through its descriptor: everything the loader reads
/// (the ELF headers, the bytes of the private copy) comes from this descriptor, never from the
/// path again, so what was checked is what gets mapped.
///
/// Opening goes: `PathTrust.checkFile` resolves the path and checks the file and every ancestor;
/// the resolved path is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so a FIFO swapped in cannot
/// block the host); `fstat` of the descriptor is checked again (owner, mode, regular file) and
/// its size against the limit, before a byte is read; then only the ELF header and section
/// tables are read. A 2 GiB file that is not a library costs an `fstat` or a 64-byte read.
struct PluginFile: ~Copyable {
    /// The path the file was opened by: `path` with symbolic links resolved.
    let resolvedPath: String
    let size: Int
    let elf: ELFImage
    /// What the opened file looked like (from `fstat` of the descriptor).
    let fingerprint: FileFingerprint
    private let fd: Int32

    /// Opens and checks `path`; refuses a file over `limit` bytes.
    init(opening path: String, trust: PathTrust, limit: Int) throws(LoadError) {
        let resolved: String
        do {
            resolved = try trust.checkFile(path)
        } catch {
            throw error.fault == .missing ? .fileNotFound : .untrusted(error)
        }
        let fd = Glibc.open(resolved, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? .fileNotFound : .unreadable("cannot open \(resolved): \(String(cString: strerror(errno)))")
        }
        let size: Int
        let elf: ELFImage
        let fingerprint: FileFingerprint
        do throws(LoadError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw .unreadable("cannot stat \(resolved): \(String(cString: strerror(errno)))") }
            do {
                try trust.checkFile(info, at: resolved) { () throws(PathTrustError.Fault) in try AccessACL.of(fd: fd) }
            } catch {
                throw .untrusted(error)
            }
            guard info.st_size <= Int64(limit) else { throw .tooLarge(size: Int64(info.st_size), limit: limit) }
            size = Int(info.st_size)
            fingerprint = FileFingerprint(info)
            elf = try ELFImage(fd: fd, size: UInt64(size))
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.resolvedPath = resolved
        self.size = size
        self.elf = elf
        self.fingerprint = fingerprint
        self.fd = fd
    }

    deinit {
        Glibc.close(fd)
    }

    /// Writes the file's `size` bytes, read from the descriptor, to a new file at `path` (created
    /// exclusively, mode 0500). On failure nothing is left at `path`.
    func copy(to path: String) throws(LoadError) {
        let out = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o500)
        guard out >= 0 else { throw .unreadable("cannot create a private copy at \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(out) }
        do throws(LoadError) {
            try copyBytes(to: out, path: path)
        } catch {
            unlink(path)
            throw error
        }
    }

    private func copyBytes(to out: Int32, path: String) throws(LoadError) {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var offset = 0
        while offset < size {
            let read = pread(fd, buffer, min(chunk, size - offset), off_t(offset))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else {
                throw read == 0
                    ? .unreadable("\(resolvedPath) shrank while it was being copied; install plugin files by rename")
                    : .unreadable("cannot read \(resolvedPath): \(String(cString: strerror(errno)))")
            }
            var written = 0
            while written < read {
                let count = write(out, buffer + written, read - written)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw .unreadable("cannot write a private copy at \(path): \(String(cString: strerror(errno)))") }
                written += count
            }
            offset += read
        }
    }
}
