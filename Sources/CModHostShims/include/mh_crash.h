/*
 * Crash attribution: when the host dies of SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE or SIGTRAP,
 * a handler written in C writes one line to stderr that names the module whose code faulted (or
 * whose call the crashing thread was running, or the file being loaded, or the host itself) and
 * how to start without it (`--disable`), then hands the signal to the handler that was installed
 * before (the Swift runtime's backtracer), so the backtrace still follows and the process still
 * dies of the signal.
 *
 * Why C: a signal handler may only call async-signal-safe functions. Swift code can take runtime
 * locks (allocation, metadata, retain/release), so nothing here calls into Swift, allocates or
 * locks once a signal arrives; numbers are formatted by hand and the line goes out with write(2).
 *
 * Two sources of truth, both readable without locks:
 *   - the image table: the address ranges (PT_LOAD segments) of every plugin image the host
 *     mapped, with its module id, version, file and generation, recorded after dlopen. Entries
 *     are published with a release store and never freed; an unmapped image is marked dead.
 *   - the current call frame, one per thread (`__thread`): set around every entry into plugin
 *     code (a method, a typed export, an event, timer or reply callback, a lifecycle entry) and
 *     around loading a file, cleared after. Frames nest (a plugin's store callback runs inside
 *     its call); the innermost one counts.
 * The faulting program counter (from the ucontext) is looked up in the table first: code of a
 * plugin image names that module, also on a thread the plugin started itself. Otherwise the
 * thread's frame says which module the host was running when something it called faulted.
 */
#ifndef MH_CRASH_H
#define MH_CRASH_H

#include <stddef.h>
#include <stdint.h>

/* What a call frame is doing, which decides how the crash line words it. */
#define MH_SHIM_FRAME_CALL 0     /* a method or typed export: "in call <id>.<name>" */
#define MH_SHIM_FRAME_ENTRY 1    /* a lifecycle entry or callback: "in its <name>" */
#define MH_SHIM_FRAME_LOADING 2  /* opening a plugin file (detail: the file), no image yet */

/* The signals the handler reports. */
#define MH_SHIM_CRASH_SIGNAL_COUNT 6

/* The most plugin images the table records in one host process (each load, swap or shadow maps
 * one; entries are never reused). Past it images are not recorded and a crash in one is reported
 * through the thread's call frame only. */
#define MH_SHIM_CRASH_MAX_IMAGES 4096

/*
 * One entry into plugin code, on the stack of the thread that makes it. The strings are borrowed:
 * they must stay valid while the frame is current (a descriptor's method name, a static string,
 * a topic held by the caller).
 */
typedef struct mh_shim_call_frame {
    struct mh_shim_call_frame *outer;
    int32_t image;       /* image table index of the module being run, or -1 */
    int32_t kind;        /* MH_SHIM_FRAME_* */
    const char *name;    /* method or entry name (not NUL-terminated) */
    size_t name_len;
    const char *detail;  /* an event's topic, the file being loaded; or NULL */
    size_t detail_len;
} mh_shim_call_frame;

/* The calling thread's innermost frame. Initial-exec TLS: one %fs-relative access, no call. */
extern __thread mh_shim_call_frame *mh_shim_current_frame __attribute__((tls_model("initial-exec")));

/* Makes `frame` (filled in but for `outer`) the thread's current frame. The signal fences keep
 * the compiler from moving the frame's stores past the call into plugin code. */
static inline void mh_shim_frame_enter(mh_shim_call_frame *frame) {
    frame->outer = mh_shim_current_frame;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    mh_shim_current_frame = frame;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Restores the frame that was current before `frame`. */
static inline void mh_shim_frame_leave(mh_shim_call_frame *frame) {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    mh_shim_current_frame = frame->outer;
}

/* The calling thread's innermost frame, or NULL (Swift cannot name a thread-local variable). */
static inline mh_shim_call_frame *mh_shim_current_frame_get(void) {
    return mh_shim_current_frame;
}

/*
 * Records the host's own identity for the crash line: `label` (e.g. "modhost 0.1.0") and the
 * executable's path and address ranges (from /proc/self/exe and dl_iterate_phdr). Copies
 * `label`. Idempotent; called by mh_shim_crash_install.
 */
void mh_shim_crash_identify_host(const char *label);

/*
 * Installs the handler for SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE and SIGTRAP
 * (SA_SIGINFO | SA_ONSTACK | SA_NODEFER), saving the actions installed before, which it chains
 * to. Call once, early, from the main thread, after the Swift runtime has installed its
 * backtracer (it does so before main). Returns 0, or the errno of a failing sigaction.
 */
int mh_shim_crash_install(const char *label);

/*
 * Records the image opened as `dl_handle` (a dlopen handle) for module `id` `version`, loaded
 * from `file` (the path to show and to pass to --disable). Finds its PT_LOAD ranges through
 * dlinfo(RTLD_DI_LINKMAP) and dl_iterate_phdr. Copies the strings. Returns the entry's index,
 * or -1 when the table is full or the image was not found. Any thread; not in a signal handler.
 */
int32_t mh_shim_crash_register_image(void *dl_handle, const char *id, const char *version, const char *file);

/* Sets the generation shown for entry `image` (the registry numbers instances after the load). */
void mh_shim_crash_set_generation(int32_t image, int64_t generation);

/* Marks entry `image` dead before its image is dlclosed: its ranges may be reused by the next. */
void mh_shim_crash_image_unmapped(int32_t image);

/*
 * Writes the crash line (with its newline, without a NUL) for signal `signo` (`code` and
 * `sender` are siginfo's si_code and si_pid: a signal sent by another process says so) at program counter `pc`, with `frame` the crashing thread's frame,
 * into `buffer`; returns its length (truncated to `capacity`). Async-signal-safe. The handler
 * uses it; tests call it directly.
 */
size_t mh_shim_crash_describe(char *buffer, size_t capacity, int signo, int code, int sender, uintptr_t pc,
                              const mh_shim_call_frame *frame);

#endif
