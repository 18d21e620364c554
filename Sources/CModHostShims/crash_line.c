/*
 * The crash line (see mh_crash.h): built from the image table, the thread's frame and the host's
 * identity. Async-signal-safe: loops over fixed storage, no libc string functions.
 */
#define _GNU_SOURCE
#include "crash_table.h"

#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

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
static void put_module(struct line *line, const struct mh_shim_crash_image *entry) {
    put(line, entry->id);
    put(line, " ");
    put(line, entry->version);
    put(line, " (generation ");
    long long generation = atomic_load_explicit(&((struct mh_shim_crash_image *)entry)->generation, memory_order_acquire);
    if (generation > 0)
        put_number(line, generation);
    else
        put(line, "?");
    put(line, ", file ");
    put(line, entry->file);
    put(line, ")");
}

static void put_disable_hint(struct line *line, const struct mh_shim_crash_image *entry) {
    put(line, "restart with --disable ");
    put(line, entry->id);
    put(line, " (or --disable ");
    put(line, entry->file);
    put(line, ") to leave it out");
}

/* What the frame was doing, as a module's own activity: "call crasher.segv", "its start". */
static void put_activity(struct line *line, const mh_shim_call_frame *frame, const struct mh_shim_crash_image *running) {
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

static void put_host(struct line *line) {
    put(line, mh_shim_crash_host.label);
    if (mh_shim_crash_host.path[0]) {
        put(line, ", ");
        put(line, mh_shim_crash_host.path);
    }
}

size_t mh_shim_crash_describe(char *buffer, size_t capacity, int signo, int code, int sender, uintptr_t pc,
                              const mh_shim_call_frame *frame) {
    if (capacity == 0)
        return 0;
    struct line line = { buffer, 0, capacity };
    put(&line, "modhost: fatal ");
    put_signal(&line, signo);
    const struct mh_shim_crash_image *owner = mh_shim_crash_image_at(pc);
    const struct mh_shim_crash_image *running = frame ? mh_shim_crash_image_entry(frame->image) : NULL;

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
        int in_host = mh_shim_crash_in_ranges(pc, mh_shim_crash_host.start, mh_shim_crash_host.end, mh_shim_crash_host.ranges);
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
