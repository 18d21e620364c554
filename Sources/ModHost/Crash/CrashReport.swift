import CModHostShims

/// Swift's side of crash attribution: the C handler in `CModHostShims` (`mh_crash.h`) writes one
/// line to stderr when the host dies of SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE or SIGTRAP,
/// naming the module that owns the faulting code or whose call the thread was running, and how
/// to start without it (`--disable`); then the Swift runtime's backtrace follows.
///
/// What the handler reads is prepared here, ahead of time, because nothing may be computed once
/// the signal arrives: the image table (every plugin image's address ranges with its module id,
/// version, file and generation, recorded when it is mapped) and a per-thread frame around every
/// entry into plugin code (`call`, `entry`, `loading`).
enum CrashReport {
    /// Installs the handler (chaining to the Swift backtracer installed before `main`) and gives
    /// the calling (main) thread its alternate signal stack. Call once, before plugins load.
    /// Returns 0, or the errno of a failing `sigaction`.
    static func install(label: String) -> Int32 {
        _ = mh_shim_thread_prepare()
        return mh_shim_crash_install(label)
    }

    /// Gives the calling thread an alternate signal stack (freed at thread exit), so that a stack
    /// overflow still reaches the handler. Every thread the host creates calls it first.
    @inline(__always)
    static func prepareThread() {
        _ = mh_shim_thread_prepare()
    }

    /// Records a freshly mapped image; returns its table index, or -1 (table full, not found).
    static func register(handle: UnsafeMutableRawPointer, id: String, version: String, file: String) -> Int32 {
        mh_shim_crash_register_image(handle, id, version, file)
    }

    /// Sets the generation the line shows for `image` (known once the instance is made).
    static func setGeneration(_ image: Int32, _ generation: Int) {
        mh_shim_crash_set_generation(image, Int64(generation))
    }

    /// Marks `image` dead just before it is dlclosed.
    static func unmapped(_ image: Int32) {
        mh_shim_crash_image_unmapped(image)
    }

    /// Runs `body`, a call of method (or typed export) `name` of the module in `image`, as the
    /// thread's current frame: a crash meanwhile says "in call <id>.<name>".
    /// - Important: on the hot path; costs two thread-local stores and one load.
    @inline(__always)
    static func call<R, E: Error>(
        _ image: Int32, _ name: UnsafePointer<CChar>, _ length: Int, _ body: () throws(E) -> R
    ) throws(E) -> R {
        var frame = mh_shim_call_frame(
            outer: nil, image: image, kind: Int32(MH_SHIM_FRAME_CALL), name: name, name_len: length, detail: nil, detail_len: 0)
        return try withFrame(&frame, body)
    }

    /// Runs `body`, the lifecycle entry or callback `name` ("start", "on_event", "timer
    /// callback") of the module in `image`, as the current frame; `detail` (an event's topic) is
    /// borrowed for the duration.
    @inline(__always)
    static func entry<R, E: Error>(
        _ image: Int32, _ name: StaticString, detail: UnsafeBufferPointer<CChar>? = nil, _ body: () throws(E) -> R
    ) throws(E) -> R {
        var frame = mh_shim_call_frame(
            outer: nil, image: image, kind: Int32(MH_SHIM_FRAME_ENTRY),
            name: UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), name_len: name.utf8CodeUnitCount,
            detail: detail?.baseAddress, detail_len: detail?.count ?? 0)
        return try withFrame(&frame, body)
    }

    /// Runs `body`, opening the plugin file `file` (its constructors and `mh_plugin_entry` run,
    /// its descriptor is read), as the current frame: a crash meanwhile names the file.
    static func loading<R, E: Error>(_ file: String, _ body: () throws(E) -> R) throws(E) -> R {
        var bytes = Array(file.utf8CString)
        let result: Result<R, E> = bytes.withUnsafeMutableBufferPointer { path in
            var frame = mh_shim_call_frame(
                outer: nil, image: -1, kind: Int32(MH_SHIM_FRAME_LOADING), name: nil, name_len: 0,
                detail: UnsafePointer(path.baseAddress), detail_len: path.count - 1)
            return withFrame(&frame) { () -> Result<R, E> in
                do throws(E) { return .success(try body()) } catch { return .failure(error) }
            }
        }
        return try result.get()
    }

    @inline(__always)
    private static func withFrame<R, E: Error>(_ frame: inout mh_shim_call_frame, _ body: () throws(E) -> R) throws(E) -> R {
        try withUnsafeMutablePointer(to: &frame) { (pointer) throws(E) -> R in
            mh_shim_frame_enter(pointer)
            defer { mh_shim_frame_leave(pointer) }
            return try body()
        }
    }

    /// The line the handler would write for `signal` at `pc`, with the calling thread's current
    /// frame (for tests of the wording; the handler itself runs in C).
    static func describe(signal: Int32, pc: UInt, code: Int32 = 1 /* SEGV_MAPERR: a fault */, sender: Int32 = 0) -> String {
        var buffer = [CChar](repeating: 0, count: 3 * 4096)
        let length = mh_shim_crash_describe(&buffer, buffer.count, signal, code, sender, pc, mh_shim_current_frame_get())
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Records the host's name and executable for the line without installing the handler (tests).
    static func identifyHost(label: String) {
        mh_shim_crash_identify_host(label)
    }
}
