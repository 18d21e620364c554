/*
 * crasher.c: a module whose methods crash the host on purpose, for the crash-report tests.
 * Module "crasher" 1.0.0; every method but ping kills the process.
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include [-D...] crasher.c -lpthread
 *
 *   -DCRASHER_ID='"other"'     another id
 *   -DCRASHER_CRASH_IN_ENTRY   mh_plugin_entry dereferences NULL (a crash while the file loads)
 */
#define _POSIX_C_SOURCE 200809L
#include "modhost.h"
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifndef CRASHER_ID
#define CRASHER_ID "crasher"
#endif

typedef struct crasher {
    const mh_host_api *host;
    mh_context *ctx;
} crasher;

/* Read through a volatile pointer, so the compiler keeps the faulting load. */
static int read_null(void) {
    volatile int *nowhere = NULL;
    return *nowhere;
}

static void *crash_on_own_thread(void *unused) {
    (void)unused;
    return (void *)(intptr_t)read_null();
}

/* Unbounded in practice (the limit is never reached): overflows the calling thread's stack. */
static volatile int recursion_limit = INT_MAX;
static int recurse(volatile char *outer, int depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[1] = outer ? outer[0] : 0;
    if (depth >= recursion_limit)
        return frame[1];
    return recurse(frame, depth + 1) + frame[0];
}

static void *crasher_init(const mh_init_info *info, mh_out *error) {
    crasher *self = malloc(sizeof *self);
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    return self;
}

static void crasher_destroy(void *instance) { free(instance); }

static int is(const char *method, size_t length, const char *name) {
    return strlen(name) == length && memcmp(method, name, length) == 0;
}

static int32_t crasher_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                              const char *params, size_t params_len) {
    crasher *self = instance;
    (void)params; (void)params_len;
    if (is(method, method_len, "segv")) {
        return read_null();
    } else if (is(method, method_len, "thread_segv")) {
        pthread_t thread;
        pthread_create(&thread, NULL, crash_on_own_thread, NULL);
        pthread_detach(thread);
        return MH_PENDING; /* never completed: the thread brings the host down first */
    } else if (is(method, method_len, "abort")) {
        abort();
    } else if (is(method, method_len, "bad_respond")) {
        /* A pointer the host cannot read: the host's own code faults, serving this call. */
        return self->host->respond(call, (const char *)16, 100);
    } else if (is(method, method_len, "overflow")) {
        return recurse(NULL, 0);
    }
    return self->host->respond(call, "\"pong\"", 6); /* ping */
}

static const char *const crasher_methods[] = { "ping", "segv", "thread_segv", "abort", "bad_respond", "overflow", NULL };

static const mh_plugin crasher_plugin = {
    .abi_version = MH_ABI_VERSION,
    .struct_size = sizeof(mh_plugin),
    .id = CRASHER_ID,
    .version = "1.0.0",
    .description = "crashes on purpose (crash-report tests)",
    .methods = crasher_methods,
    .flags = MH_FLAG_UNLOADABLE,
    .init = crasher_init,
    .destroy = crasher_destroy,
    .handle = crasher_handle,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) {
#ifdef CRASHER_CRASH_IN_ENTRY
    if (read_null() == 42)
        return NULL;
#endif
    return &crasher_plugin;
}
