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
    private let handle: UnsafeMutableRawPointer
    private let closed = Atomic<Bool>(false)

    fileprivate init(file: String, mappedPath: String, isSwift: Bool, descriptor: PluginDescriptor, handle: UnsafeMutableRawPointer) {
        self.file = file
        self.mappedPath = mappedPath
        self.isSwift = isSwift
        self.descriptor = descriptor
        self.handle = handle
    }

    /// True when the image may be unmapped: a plain C plugin that declared itself unloadable.
    /// Swift images never are: the Swift runtime keeps pointers into them.
    var canUnload: Bool { !isSwift && descriptor.isUnloadable }

    /// Unmaps the image if it may be; returns whether it did.
    @discardableResult
    func unloadIfAllowed() -> Bool {
        guard canUnload, !closed.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        dlclose(handle)
        return true
    }
}

/// Opens plugin files: checks, copies each to a unique private path, dlopens the copy, and reads
/// its descriptor. Every refusal is a `LoadError` naming the problem.
final class PluginLoader: Sendable {
    /// Where private copies go; created with mode 0700.
    let imageDirectory: String
    private let counter = Atomic<Int>(0)

    init(imageDirectory: String) throws {
        self.imageDirectory = imageDirectory
        try FileManager.default.createDirectory(atPath: imageDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
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
        guard FileManager.default.createFile(atPath: mappedPath, contents: contents, attributes: [.posixPermissions: 0o500]) else {
            throw .dlopenFailed("could not write a private copy to \(mappedPath)")
        }
        var flags = RTLD_NOW | RTLD_LOCAL
        if elf.isSwift { flags |= RTLD_NODELETE }
        guard let handle = dlopen(mappedPath, flags) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            try? FileManager.default.removeItem(atPath: mappedPath)
            throw .dlopenFailed(message)
        }
        do throws(LoadError) {
            guard let symbol = dlsym(handle, MH_PLUGIN_ENTRY_SYMBOL) else { throw .missingEntry }
            let entry = unsafeBitCast(symbol, to: mh_plugin_entry_fn.self)
            guard let pointer = entry() else { throw .nullDescriptor }
            let descriptor = try PluginDescriptor(reading: pointer)
            return PluginImage(file: path, mappedPath: mappedPath, isSwift: elf.isSwift, descriptor: descriptor, handle: handle)
        } catch {
            if !elf.isSwift { dlclose(handle) }
            try? FileManager.default.removeItem(atPath: mappedPath)
            throw error
        }
    }

    /// Plugin files in a directory: `*.so`, sorted by name.
    static func pluginFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".so") }.sorted().map { "\(directory)/\($0)" }
    }
}
