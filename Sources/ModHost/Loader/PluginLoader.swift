import CModHost
import Foundation
import Synchronization

/// A plugin file mapped into the process, with its validated descriptor.
final class PluginImage: @unchecked Sendable {
    /// The file as the user named it.
    let file: String
    /// What `file` looked like when it was opened (for a pinned copy, known by the file it was
    /// pinned from: what that file looked like when the pinned generation was loaded from it, if
    /// known).
    let sourceFingerprint: FileFingerprint?
    /// The private copy that was actually mapped, `<image dir>/<n>-<file name>.g<generation>`
    /// (unlinked once mapped; the generation in it is the loader's prediction).
    let mappedPath: String
    let isSwift: Bool
    let descriptor: PluginDescriptor
    /// The image's entry in the crash handler's table (-1 if it could not be recorded).
    let crashEntry: Int32
    private let handle: UnsafeMutableRawPointer
    private let closed = Atomic<Bool>(false)
    /// The private copy, opened for reading before it was unlinked (-1: could not be): the exact
    /// bytes that were mapped, which a pin copies (`Pins`) whatever became of `file` since.
    private let copy: Mutex<Int32>

    fileprivate init(file: String, sourceFingerprint: FileFingerprint?, mappedPath: String, isSwift: Bool, descriptor: PluginDescriptor,
                     handle: UnsafeMutableRawPointer, copy: Int32) {
        self.file = file
        self.sourceFingerprint = sourceFingerprint
        self.mappedPath = mappedPath
        self.isSwift = isSwift
        self.descriptor = descriptor
        self.handle = handle
        self.copy = Mutex(copy)
        crashEntry = CrashReport.register(handle: handle, id: descriptor.id, version: descriptor.version, file: DisabledModules.resolve(file))
    }

    /// True when the image may be unmapped: a plain C plugin that declared itself unloadable.
    /// Swift images never are: the Swift runtime keeps pointers into them.
    var canUnload: Bool { !isSwift && descriptor.isUnloadable }

    deinit {
        closeCopy()
    }

    /// Runs `body` with a descriptor of the mapped bytes (nil when there is none any more).
    func withCopy<T>(_ body: (Int32?) throws -> T) rethrows -> T {
        try copy.withLock { fd in try body(fd >= 0 ? fd : nil) }
    }

    /// Closes the descriptor of the mapped bytes: the image is no longer used.
    func closeCopy() {
        copy.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Keeps the image mapped for good: an abandoned instance may still run its code.
    func keepMapped() {
        closed.store(true, ordering: .releasing)
    }

    /// Unmaps the image if it may be; returns whether it did.
    @discardableResult
    func unloadIfAllowed() -> Bool {
        guard canUnload, !closed.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        CrashReport.unmapped(crashEntry)
        dlclose(handle)
        return true
    }
}

/// Opens plugin files: checks them, copies each to a unique private path, dlopens the copy, and
/// reads its descriptor. Every refusal is a `LoadError` naming the problem.
///
/// The checks (`PluginFile`, `PathTrust`): the file and every directory up to `/` must be owned
/// by root or the host's user and writable by nobody else; the file must be at most
/// `maxFileBytes` and an ELF shared object for this machine. The file is opened once, and the
/// copy is made from that descriptor.
///
/// The copies live in an `ImageDirectory` (mode 0700, unpredictable name, locked while the host
/// lives), are created exclusively, and are unlinked as soon as they are mapped: nobody else can
/// plant or replace the file that gets loaded, and nothing is left behind, even by a killed host
/// (the next host removes its directory).
final class PluginLoader: Sendable {
    let images: ImageDirectory
    let maxFileBytes: Int
    let trust: PathTrust
    private let counter = Atomic<Int>(0)


    /// Makes the private image directory under `parent` (default: the system temporary
    /// directory), after removing those of dead hosts there.
    init(parent: String = NSTemporaryDirectory(), maxFileBytes: Int = HostConfiguration.defaultMaxPluginBytes, trust: PathTrust = PathTrust()) throws {
        images = try ImageDirectory(parent: parent, trust: trust)
        self.maxFileBytes = maxFileBytes
        self.trust = trust
    }

    /// Removes the (empty) private directory and releases its lock.
    func removeImageDirectory() {
        images.remove()
    }

    /// Checks, copies and maps the plugin file at `path`, and reads its descriptor.
    ///
    /// - Parameter generation: the generation the registry expects this load to become. It only
    ///   names the private copy, `<n>-<file name>.g<generation>`, so that a backtrace (which
    ///   names the mapped path) says which file and generation the code came from. It is a hint:
    ///   the copy is made before the descriptor, hence the module id, is known, and a load can
    ///   still fail. The registry's generation (`host.status`) is the truth.
    /// - Parameter file: the path the image is known by (`PluginImage.file`) when it is not
    ///   `path`: a pinned copy is known by the file it was pinned from, and `fingerprint` is
    ///   that file's as the pin recorded it.
    func open(_ path: String, generation: Int, as file: String? = nil, fingerprint pinned: FileFingerprint? = nil) throws(LoadError) -> PluginImage {
        let known = file ?? path
        let file = try PluginFile(opening: path, trust: trust, limit: maxFileBytes)
        let fingerprint = known == path ? file.fingerprint : pinned
        let isSwift = file.elf.isSwift

        // dlopen caches by path and inode: a unique copy per load keeps versions apart, and a file
        // being replaced on disk is never mapped half-written. The counter keeps names unique.
        let mappedPath = "\(images.path)/\(counter.add(1, ordering: .relaxed).newValue)-\(Self.copyName(known)).g\(generation)"
        try file.copy(to: mappedPath)
        let copy = Glibc.open(mappedPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        var flags = RTLD_NOW | RTLD_LOCAL
        if isSwift { flags |= RTLD_NODELETE }
        let opened = dlopen(mappedPath, flags)
        unlink(mappedPath)  // mapped (or not): the name is no longer needed
        guard let handle = opened else {
            if copy >= 0 { close(copy) }
            throw .dlopenFailed(dlerror().map { String(cString: $0) } ?? "unknown error")
        }
        let descriptor: PluginDescriptor
        do throws(LoadError) {
            descriptor = try Self.readDescriptor(handle)
        } catch {
            if !isSwift { dlclose(handle) }
            if copy >= 0 { close(copy) }
            throw error
        }
        // The image is mapped and its descriptor valid: the one place where the handle, the
        // mapped path and the descriptor are all known (per-image bookkeeping goes here).
        return PluginImage(file: known, sourceFingerprint: fingerprint, mappedPath: mappedPath, isSwift: isSwift, descriptor: descriptor, handle: handle, copy: copy)
    }

    private static func readDescriptor(_ handle: UnsafeMutableRawPointer) throws(LoadError) -> PluginDescriptor {
        guard let symbol = dlsym(handle, MH_PLUGIN_ENTRY_SYMBOL) else { throw .missingEntry }
        let entry = unsafeBitCast(symbol, to: mh_plugin_entry_fn.self)
        guard let pointer = entry() else { throw .nullDescriptor }
        return try PluginDescriptor(reading: pointer)
    }

    /// The file name of `path`, at most 200 bytes, for the copy's name.
    private static func copyName(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return name.utf8.count <= 200 ? name : String(decoding: name.utf8.prefix(200), as: UTF8.self)
    }

    /// Plugin files in a directory: `*.so`, sorted by name.
    static func pluginFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".so") }.sorted().map { "\(directory)/\($0)" }
    }
}
