/*
 * The crash handler, the image table it reads and the line it writes (see mh_crash.h).
 *
 * Everything reachable from `mh_shim_crash_handler` is async-signal-safe: atomics, loops over
 * fixed storage, write(2), sigaction, pthread_sigmask and raise. No malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "mh_crash.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

__thread mh_shim_call_frame *mh_shim_current_frame __attribute__((tls_model("initial-exec")));

#define MAX_RANGES 8

/* One mapped plugin image. Written once before it is published, never freed. */
struct image {
    uintptr_t start[MAX_RANGES];
    uintptr_t end[MAX_RANGES];
    int ranges;
    atomic_int alive;
    atomic_llong generation;
    const char *id;
    const char *version;
    const char *file;
};

static _Atomic(struct image *) images[MH_SHIM_CRASH_MAX_IMAGES];
static atomic_int image_count;

/* The host itself: what the line calls it, its executable, and the executable's ranges. */
static char host_label[64] = "modhost";
static char host_path[4096];
static uintptr_t host_start[MAX_RANGES];
static uintptr_t host_end[MAX_RANGES];
static int host_ranges;
static atomic_int host_identified;

static const int crash_signals[MH_SHIM_CRASH_SIGNAL_COUNT] = { SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP };
static struct sigaction previous_actions[MH_SHIM_CRASH_SIGNAL_COUNT];
static atomic_int installed;
/* Set by the first thread that reports (its thread id); later ones, or a fault inside the handler
 * on that thread, only chain. `reported` is set once its line is out. */
static atomic_long reporting;
static atomic_int reported;
/* The line is built here, not on the (alternate) stack the previous handler still needs. */
static char crash_line[3 * 4096];

/* ---- Recording images (not in a signal handler) ---------------------------------------- */

struct range_search {
    uintptr_t base;
    const char *name;
    uintptr_t *start;
    uintptr_t *end;
    int *count;
    int main_program;
};

static int collect_ranges(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct range_search *search = data;
    if (!search->main_program
        && (info->dlpi_addr != search->base || strcmp(info->dlpi_name ? info->dlpi_name : "", search->name) != 0))
        return 0;
    int count = 0;
    for (int i = 0; i < info->dlpi_phnum && count < MAX_RANGES; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD)
            continue;
        search->start[count] = info->dlpi_addr + header->p_vaddr;
        search->end[count] = info->dlpi_addr + header->p_vaddr + header->p_memsz;
        count++;
    }
    *search->count = count;
    return 1; /* the main program comes first; a plugin image is found once */
}

void mh_shim_crash_identify_host(const char *label) {
    if (atomic_exchange(&host_identified, 1))
        return;
    if (label) {
        strncpy(host_label, label, sizeof host_label - 1);
        host_label[sizeof host_label - 1] = 0;
    }
    ssize_t length = readlink("/proc/self/exe", host_path, sizeof host_path - 1);
    host_path[length > 0 ? length : 0] = 0;
    struct range_search search = { 0, "", host_start, host_end, &host_ranges, 1 };
    dl_iterate_phdr(collect_ranges, &search);
}

int32_t mh_shim_crash_register_image(void *dl_handle, const char *id, const char *version, const char *file) {
    struct link_map *map = NULL;
    if (!dl_handle || dlinfo(dl_handle, RTLD_DI_LINKMAP, &map) != 0 || !map)
        return -1;
    struct image *entry = calloc(1, sizeof *entry);
    if (!entry)
        return -1;
    struct range_search search = { map->l_addr, map->l_name ? map->l_name : "", entry->start, entry->end, &entry->ranges, 0 };
    dl_iterate_phdr(collect_ranges, &search);
    entry->id = strdup(id ? id : "?");
    entry->version = strdup(version ? version : "?");
    entry->file = strdup(file ? file : "?");
    if (entry->ranges == 0 || !entry->id || !entry->version || !entry->file) {
        free((void *)entry->id);
        free((void *)entry->version);
        free((void *)entry->file);
        free(entry);
        return -1;
    }
    atomic_init(&entry->alive, 1);
    atomic_init(&entry->generation, 0);
    int index = atomic_fetch_add(&image_count, 1);
    if (index >= MH_SHIM_CRASH_MAX_IMAGES) {
        atomic_fetch_sub(&image_count, 1);
        free((void *)entry->id);
        free((void *)entry->version);
        free((void *)entry->file);
        free(entry);
        return -1;
    }
    atomic_store_explicit(&images[index], entry, memory_order_release);
    return index;
}

static struct image *image_entry(int32_t index) {
    if (index < 0 || index >= MH_SHIM_CRASH_MAX_IMAGES)
        return NULL;
    return atomic_load_explicit(&images[index], memory_order_acquire);
}

void mh_shim_crash_set_generation(int32_t index, int64_t generation) {
    struct image *entry = image_entry(index);
    if (entry)
        atomic_store_explicit(&entry->generation, generation, memory_order_release);
}

void mh_shim_crash_image_unmapped(int32_t index) {
    struct image *entry = image_entry(index);
    if (entry)
        atomic_store_explicit(&entry->alive, 0, memory_order_release);
}

/* ---- The line (async-signal-safe) ------------------------------------------------------- */

struct line {
    char *bytes;
    size_t length;
    size_t capacity; /* one byte is kept back for the newline */
};

static void put_bytes(struct line *line, const char *bytes, size_t count) {
    for (size_t i = 0; i < count && line->length + 1 < line->capacity; i++) {
        unsigned char c = (unsigned char)bytes[i];
        line->bytes[line->length++] = c < 0x20 || c == 0x7f ? '?' : (char)c; /* stays one line */
    }
}

static void put(struct line *line, const char *text) {
    size_t count = 0;
    while (text[count])
        count++;
    put_bytes(line, text, count);
}

static void put_number(struct line *line, long long value) {
    char digits[24];
    int count = 0;
    unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        put_bytes(line, "-", 1);
    while (count > 0)
        put_bytes(line, &digits[--count], 1);
}

static void put_signal(struct line *line, int signo) {
    switch (signo) {
    case SIGSEGV: put(line, "SIGSEGV"); break;
    case SIGBUS: put(line, "SIGBUS"); break;
    case SIGILL: put(line, "SIGILL"); break;
    case SIGABRT: put(line, "SIGABRT"); break;
    case SIGFPE: put(line, "SIGFPE"); break;
    case SIGTRAP: put(line, "SIGTRAP"); break;
    default: put(line, "signal "); put_number(line, signo); break;
    }
}

/* "crasher 1.0.0 (generation 2, file /plugins/libcrasher.so)" */
static void put_module(struct line *line, const struct image *entry) {
    put(line, entry->id);
    put(line, " ");
    put(line, entry->version);
    put(line, " (generation ");
    long long generation = atomic_load_explicit(&((struct image *)entry)->generation, memory_order_acquire);
    if (generation > 0)
        put_number(line, generation);
    else
        put(line, "?");
    put(line, ", file ");
    put(line, entry->file);
    put(line, ")");
}

static void put_disable_hint(struct line *line, const struct image *entry) {
    put(line, "restart with --disable ");
    put(line, entry->id);
    put(line, " (or --disable ");
    put(line, entry->file);
    put(line, ") to leave it out");
}

/* What the frame was doing, as a module's own activity: "call crasher.segv", "its start". */
static void put_activity(struct line *line, const mh_shim_call_frame *frame, const struct image *running) {
    if (frame->kind == MH_SHIM_FRAME_CALL) {
        put(line, "call ");
        put(line, running->id);
        put(line, ".");
        put_bytes(line, frame->name, frame->name_len);
    } else {
        put_bytes(line, frame->name, frame->name_len);
    }
    if (frame->detail) {
        put(line, " (");
        put_bytes(line, frame->detail, frame->detail_len);
        put(line, ")");
    }
}

static int in_ranges(uintptr_t pc, const uintptr_t *start, const uintptr_t *end, int count) {
    for (int i = 0; i < count; i++)
        if (pc >= start[i] && pc < end[i])
            return 1;
    return 0;
}

/* The live plugin image holding `pc`, newest first (a dead image's addresses may be reused). */
static const struct image *image_at(uintptr_t pc) {
    int count = atomic_load_explicit(&image_count, memory_order_acquire);
    if (count > MH_SHIM_CRASH_MAX_IMAGES)
        count = MH_SHIM_CRASH_MAX_IMAGES;
    for (int i = count - 1; i >= 0; i--) {
        const struct image *entry = atomic_load_explicit(&images[i], memory_order_acquire);
        if (entry && atomic_load_explicit(&((struct image *)entry)->alive, memory_order_acquire)
            && in_ranges(pc, entry->start, entry->end, entry->ranges))
            return entry;
    }
    return NULL;
}

static void put_host(struct line *line) {
    put(line, host_label);
    if (host_path[0]) {
        put(line, ", ");
        put(line, host_path);
    }
}

size_t mh_shim_crash_describe(char *buffer, size_t capacity, int signo, int code, int sender, uintptr_t pc,
                              const mh_shim_call_frame *frame) {
    if (capacity == 0)
        return 0;
    struct line line = { buffer, 0, capacity };
    put(&line, "modhost: fatal ");
    put_signal(&line, signo);
    const struct image *owner = image_at(pc);
    const struct image *running = frame ? image_entry(frame->image) : NULL;

    if ((code == SI_USER || code == SI_QUEUE) && sender != getpid()) {
        put(&line, " sent by process ");
        put_number(&line, sender);
        put(&line, " (kill), not a fault in the host or a module");
    } else if (owner) {
        put(&line, " in module ");
        put_module(&line, owner);
        if (running == owner) {
            put(&line, frame->kind == MH_SHIM_FRAME_CALL ? ", in " : ", in its ");
            put_activity(&line, frame, running);
        } else if (running) {
            put(&line, ", in ");
            put_activity(&line, frame, running);
            put(&line, " of module ");
            put_module(&line, running);
        } else if (frame && frame->kind == MH_SHIM_FRAME_LOADING) {
            put(&line, ", while loading ");
            put_bytes(&line, frame->detail, frame->detail_len);
        } else {
            put(&line, ", outside any call from the host (on a thread it started)");
        }
        put(&line, ": ");
        put_disable_hint(&line, owner);
    } else if (frame && frame->kind == MH_SHIM_FRAME_LOADING) {
        put(&line, " while loading ");
        put_bytes(&line, frame->detail, frame->detail_len);
        put(&line, " (in its library constructors, mh_plugin_entry or descriptor): restart with --disable ");
        put_bytes(&line, frame->detail, frame->detail_len);
        put(&line, " to leave it out");
    } else if (running) {
        int in_host = in_ranges(pc, host_start, host_end, host_ranges);
        if (in_host) {
            put(&line, " in the host's own code (");
            put_host(&line);
            put(&line, ")");
        } else {
            put(&line, " outside any module's image");
        }
        put(&line, ", in ");
        put_activity(&line, frame, running);
        put(&line, " of module ");
        put_module(&line, running);
        put(&line, in_host ? ": a host bug, or a bad pointer the module passed to a host function; "
                           : ": in code it called (libc, the Swift runtime, a library), or it aborted; ");
        put_disable_hint(&line, running);
    } else {
        put(&line, " in the host itself (");
        put_host(&line);
        put(&line, "), not in a module's code or call: a host bug, please report it");
    }
    line.bytes[line.length++] = '\n';
    return line.length;
}

/* ---- The handler ------------------------------------------------------------------------ */

static uintptr_t program_counter(void *context) {
    const ucontext_t *uc = context;
    if (!uc)
        return 0;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    return 0;
#endif
}

static void write_all(const char *bytes, size_t count) {
    while (count > 0) {
        ssize_t written = write(STDERR_FILENO, bytes, count);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return;
        bytes += written;
        count -= (size_t)written;
    }
}

/* Hands the signal to the action installed before ours (the Swift backtracer prints its
 * backtrace, resets its handlers and returns), then makes sure the process dies of it. */
static void chain(int signo, siginfo_t *info, void *context) {
    int index = 0;
    for (int i = 0; i < MH_SHIM_CRASH_SIGNAL_COUNT; i++) {
        sigaction(crash_signals[i], &previous_actions[i], NULL);
        if (crash_signals[i] == signo)
            index = i;
    }
    const struct sigaction *before = &previous_actions[index];
    if (before->sa_flags & SA_SIGINFO) {
        if (before->sa_sigaction)
            before->sa_sigaction(signo, info, context);
    } else if (before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN) {
        before->sa_handler(signo);
    }
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(signo, &fallback, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, signo);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    raise(signo);
    _exit(128 + signo); /* not reached: the default action ends the process */
}

static void mh_shim_crash_handler(int signo, siginfo_t *info, void *context) {
    int saved = errno;
    long self = syscall(SYS_gettid);
    long first = 0;
    if (atomic_compare_exchange_strong(&reporting, &first, self)) {
        size_t length = mh_shim_crash_describe(crash_line, sizeof crash_line, signo, info ? info->si_code : 0,
                                               info ? info->si_pid : 0, program_counter(context), mh_shim_current_frame);
        write_all(crash_line, length);
        atomic_store(&reported, 1);
    } else if (first != self) {
        /* Another thread crashed at the same moment: let its line out before this one's default
         * action can end the process (up to a second). */
        struct timespec pause = { 0, 1000000 };
        for (int i = 0; i < 1000 && !atomic_load(&reported); i++)
            nanosleep(&pause, NULL);
    }
    chain(signo, info, context);
    errno = saved;
}

int mh_shim_crash_install(const char *label) {
    mh_shim_crash_identify_host(label);
    if (atomic_exchange(&installed, 1))
        return 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = mh_shim_crash_handler;
    /* Like the Swift runtime's own handler: everything else blocked, the crash signals not (the
     * backtracer's memory reader relies on catching SIGSEGV and SIGBUS while it runs). */
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigfillset(&action.sa_mask);
    for (int i = 0; i < MH_SHIM_CRASH_SIGNAL_COUNT; i++)
        sigdelset(&action.sa_mask, crash_signals[i]);
    for (int i = 0; i < MH_SHIM_CRASH_SIGNAL_COUNT; i++) {
        if (sigaction(crash_signals[i], &action, &previous_actions[i]) != 0)
            return errno;
    }
    return 0;
}
