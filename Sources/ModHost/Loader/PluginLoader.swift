import CModHost
import Foundation
import Synchronization

/// A plugin file mapped into the process, with its validated descriptor.
final class PluginImage: @unchecked Sendable {
    /// The file as the user named it.
    let file: String
    /// The private copy that was actually mapped.
    let mappedPath: String
    let isSwift: Bool
    let descriptor: PluginDescriptor
    /// The image's entry in the crash handler's table (-1 if it could not be recorded).
    let crashEntry: Int32
    private let handle: UnsafeMutableRawPointer
    private let closed = Atomic<Bool>(false)

    fileprivate init(file: String, mappedPath: String, isSwift: Bool, descriptor: PluginDescriptor, handle: UnsafeMutableRawPointer) {
        self.file = file
        self.mappedPath = mappedPath
        self.isSwift = isSwift
        self.descriptor = descriptor
        self.handle = handle
        crashEntry = CrashReport.register(handle: handle, id: descriptor.id, version: descriptor.version, file: DisabledModules.resolve(file))
    }

    /// True when the image may be unmapped: a plain C plugin that declared itself unloadable.
    /// Swift images never are: the Swift runtime keeps pointers into them.
    var canUnload: Bool { !isSwift && descriptor.isUnloadable }

    /// Unmaps the image if it may be; returns whether it did.
    @discardableResult
    func unloadIfAllowed() -> Bool {
        guard canUnload, !closed.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        CrashReport.unmapped(crashEntry)
        dlclose(handle)
        return true
    }
}

/// Opens plugin files: checks, copies each to a unique private path, dlopens the copy, and reads
/// its descriptor. Every refusal is a `LoadError` naming the problem.
///
/// The copies live in a fresh `mkdtemp` directory (mode 0700, unpredictable name), are created
/// exclusively, and are unlinked as soon as they are mapped: nobody else can plant or replace
/// the file that gets loaded, and nothing is left behind, even by a killed host.
final class PluginLoader: Sendable {
    let imageDirectory: String
    private let counter = Atomic<Int>(0)

    /// Creates the private directory under `parent` (default: the system temporary directory).
    init(parent: String = NSTemporaryDirectory()) throws {
        var template = Array("\(parent)/modhost-images-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ConfigurationError("cannot create a private image directory in \(parent): \(String(cString: strerror(errno)))")
        }
        imageDirectory = String(cString: made)
    }

    /// Removes the (empty) private directory.
    func removeImageDirectory() {
        rmdir(imageDirectory)
    }

    func open(_ path: String) throws(LoadError) -> PluginImage {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .fileNotFound }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile }
        guard info.st_mode & S_IWOTH == 0 else { throw .worldWritable(path: path) }
        let directory = (path as NSString).deletingLastPathComponent
        var directoryInfo = stat()
        if stat(directory.isEmpty ? "." : directory, &directoryInfo) == 0, directoryInfo.st_mode & S_IWOTH != 0 {
            throw .worldWritable(path: directory.isEmpty ? "." : directory)
        }
        guard let contents = FileManager.default.contents(atPath: path) else { throw .fileNotFound }
        let bytes = [UInt8](contents)
        let elf = try ELFImage(bytes)

        // dlopen caches by path and inode: a unique copy per load keeps versions apart, and a file
        // being replaced on disk is never mapped half-written.
        let name = (path as NSString).lastPathComponent
        let mappedPath = "\(imageDirectory)/\(counter.add(1, ordering: .relaxed).newValue)-\(name)"
        try Self.writeExclusively(bytes, to: mappedPath)
        var flags = RTLD_NOW | RTLD_LOCAL
        if elf.isSwift { flags |= RTLD_NODELETE }
        let opened = dlopen(mappedPath, flags)
        unlink(mappedPath)  // mapped (or not): the name is no longer needed
        guard let handle = opened else {
            throw .dlopenFailed(dlerror().map { String(cString: $0) } ?? "unknown error")
        }
        do throws(LoadError) {
            guard let symbol = dlsym(handle, MH_PLUGIN_ENTRY_SYMBOL) else { throw .missingEntry }
            let entry = unsafeBitCast(symbol, to: mh_plugin_entry_fn.self)
            guard let pointer = entry() else { throw .nullDescriptor }
            let descriptor = try PluginDescriptor(reading: pointer)
            return PluginImage(file: path, mappedPath: mappedPath, isSwift: elf.isSwift, descriptor: descriptor, handle: handle)
        } catch {
            if !elf.isSwift { dlclose(handle) }
            throw error
        }
    }

    private static func writeExclusively(_ bytes: [UInt8], to path: String) throws(LoadError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o500)
        guard fd >= 0 else { throw .dlopenFailed("cannot create a private copy at \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                unlink(path)
                throw .dlopenFailed("cannot write a private copy at \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Plugin files in a directory: `*.so`, sorted by name.
    static func pluginFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".so") }.sorted().map { "\(directory)/\($0)" }
    }
}
