/*
 * swappable.c: a module with state to carry across hot swaps, built from this one
 * source into two versions and into builds that fail a swap on purpose.
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include [-D…]
 *
 *   -DSWAP_VERSION=1|2     version "1.0.0" (default) or "2.0.0"; selects the state format
 *   -DSWAP_ID='"other"'    the id (default "counter")
 *   -DSWAP_FLAGS=0         descriptor flags (default MH_FLAG_UNLOADABLE)
 *   -DSWAP_FAIL_INIT       init writes "init refused on purpose (SWAP_FAIL_INIT)" and returns NULL
 *   -DSWAP_FAIL_IMPORT     import_state writes "import refused on purpose (SWAP_FAIL_IMPORT)"
 *                          and returns MH_ERROR (such a build loads: only swaps import)
 *   -DSWAP_FAIL_START      start writes "start refused on purpose (SWAP_FAIL_START)" and
 *                          returns MH_ERROR (such a build cannot be loaded either)
 *
 * State: total (int64, the sum of everything added) and calls (the number of add calls
 * handled). export_state writes the version's format:
 *   version 1: {"total":N}                       (calls is not part of it)
 *   version 2: {"schema":2,"total":N,"calls":M}
 * import_state reads the format of from_version's major and checks that the text matches
 * it (the hand-written migration): 2 importing 1 sets calls to 0; 1 importing 2 keeps the
 * total and drops calls; 2 importing 2 keeps both; 1 importing 1 keeps the total (version 1
 * never carries calls across a swap). A state not in from_version's format, or from another
 * major version, is refused with a message.
 *
 * Methods:
 *   add [n]     -> the new total (n any int64; state-changing; counts one call)
 *   total       -> total
 *   calls       -> calls
 *   version     -> the version string
 *   hold        -> MH_PENDING; the call is kept in the instance and completed, with the
 *                  total at that moment, by a later `release` (one held call at a time)
 *   hold [ms]   -> the same, but a host timer also completes it after ms on the host clock
 *                  (a call that stays pending across the start of a swap, then finishes on
 *                  its own while new calls are held)
 *   release     -> completes the held call; true, or false when nothing was held
 *   busy [ms]   -> blocks in handle for ms (a call in flight), then the total
 *
 * Logs (host->log, on stderr) "started <id> <version> (<build>)" from start, "stopped …"
 * from stop and "destroyed …" from destroy; <build> is ok, fail-init, fail-import or
 * fail-start, so a test can see which instance was destroyed. The start failure also logs
 * "refusing to start …".
 *
 * Exports only mh_plugin_entry; warning-free with -std=c11 -Wall -Wextra -Werror -pedantic.
 */
#define _POSIX_C_SOURCE 200809L
#include "modhost.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SWAP_VERSION
#define SWAP_VERSION 1
#endif
#if SWAP_VERSION == 1
#define SWAP_VERSION_STRING "1.0.0"
#elif SWAP_VERSION == 2
#define SWAP_VERSION_STRING "2.0.0"
#else
#error "SWAP_VERSION must be 1 or 2"
#endif
#ifndef SWAP_ID
#define SWAP_ID "counter"
#endif
#ifndef SWAP_FLAGS
#define SWAP_FLAGS MH_FLAG_UNLOADABLE
#endif
#ifdef SWAP_FAIL_INIT
#define FAILS_INIT 1
#else
#define FAILS_INIT 0
#endif
#ifdef SWAP_FAIL_IMPORT
#define FAILS_IMPORT 1
#else
#define FAILS_IMPORT 0
#endif
#ifdef SWAP_FAIL_START
#define FAILS_START 1
#else
#define FAILS_START 0
#endif
#if defined(SWAP_FAIL_INIT)
#define SWAP_BUILD "fail-init"
#elif defined(SWAP_FAIL_IMPORT)
#define SWAP_BUILD "fail-import"
#elif defined(SWAP_FAIL_START)
#define SWAP_BUILD "fail-start"
#else
#define SWAP_BUILD "ok"
#endif

typedef struct counter {
    const mh_host_api *host;
    mh_context *ctx;
    const char *id;
    int64_t total;
    int64_t calls;
    mh_call *held;       /* the call `hold` keeps pending, or NULL; entries are serialized */
    uint64_t held_timer; /* the timer that completes it on its own, or 0 */
} counter;

static void say(counter *self, const char *what) {
    char line[160];
    int n = snprintf(line, sizeof line, "%s %s %s (%s)", what, self->id, SWAP_VERSION_STRING, SWAP_BUILD);
    if (n < 0) return;
    self->host->log(self->ctx, MH_LOG_INFO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int32_t write_text(const mh_host_api *host, mh_out *out, const char *text) {
    return host->out_write(out, text, strlen(text));
}

/* ---- Params and numbers ------------------------------------------------ */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Reads an int64 at p; returns the end, or NULL. */
static const char *int64_at(const char *p, int64_t *out) {
    char *end;
    p = ws(p);
    if (!((*p >= '0' && *p <= '9') || (*p == '-' && p[1] >= '0' && p[1] <= '9'))) return NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || *end == '.' || *end == 'e' || *end == 'E') return NULL;
    *out = (int64_t)v;
    return end;
}

/* Params that must be [n]. */
static int one_int(const char *params, int64_t *n) {
    const char *p = ws(params);
    if (*p != '[' || !(p = int64_at(p + 1, n))) return 0;
    p = ws(p);
    return *p == ']' && *ws(p + 1) == '\0';
}

/* Params that may be absent (null or []). */
static int no_params(const char *params) {
    const char *p = ws(params);
    if (strncmp(p, "null", 4) == 0) return *ws(p + 4) == '\0';
    return *p == '[' && *(p = ws(p + 1)) == ']' && *ws(p + 1) == '\0';
}

/* The int64 value of member "key" in a flat JSON object of numbers; 1 if found. */
static int member(const char *json, const char *key, int64_t *out) {
    char pattern[40];
    const char *p;
    int n = snprintf(pattern, sizeof pattern, "\"%s\"", key);
    if (n < 0 || (size_t)n >= sizeof pattern || !(p = strstr(json, pattern))) return 0;
    p = ws(p + n);
    if (*p != ':') return 0;
    p = int64_at(p + 1, out);
    return p && (*(p = ws(p)) == ',' || *p == '}');
}

static int32_t respond_int(counter *self, mh_call *call, int64_t v) {
    char s[32];
    int n = snprintf(s, sizeof s, "%" PRId64, v);
    return self->host->respond(call, s, (size_t)n);
}

static int32_t fail(counter *self, mh_call *call, int32_t code, const char *msg) {
    return self->host->fail(call, code, msg, strlen(msg), NULL, 0);
}

/* ---- Hold and release -------------------------------------------------- */

static int release_held(counter *self) {
    mh_call *call = self->held;
    if (!call) return 0;
    self->held = NULL;
    if (self->held_timer) {
        self->host->timer_cancel(self->ctx, self->held_timer);
        self->held_timer = 0;
    }
    respond_int(self, call, self->total);
    return 1;
}

static void on_hold_timer(void *user, uint64_t timer_id) {
    counter *self = user;
    if (self->held_timer == timer_id) self->held_timer = 0; /* one-shot: nothing to cancel */
    release_held(self);
}

/* ---- Methods ------------------------------------------------------------ */

static int32_t counter_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                              const char *params, size_t params_len) {
    counter *self = instance;
    int64_t n;
    (void)method_len; (void)params_len;
    if (strcmp(method, "add") == 0) {
        if (!one_int(params, &n)) return fail(self, call, MH_ERR_INVALID_PARAMS, "add expects [n]");
        self->total += n;
        self->calls++;
        return respond_int(self, call, self->total);
    }
    if (strcmp(method, "total") == 0) return respond_int(self, call, self->total);
    if (strcmp(method, "calls") == 0) return respond_int(self, call, self->calls);
    if (strcmp(method, "version") == 0)
        return self->host->respond(call, "\"" SWAP_VERSION_STRING "\"", strlen(SWAP_VERSION_STRING) + 2);
    if (strcmp(method, "hold") == 0) {
        int timed = !no_params(params);
        if (timed && (!one_int(params, &n) || n < 0)) return fail(self, call, MH_ERR_INVALID_PARAMS, "hold expects no params or [ms]");
        if (self->held) return fail(self, call, MH_ERR_INVALID_PARAMS, "a call is already held");
        if (timed && !(self->held_timer = self->host->timer_start(self->ctx, (uint64_t)n, 0, on_hold_timer, self)))
            return fail(self, call, MH_ERR_INTERNAL, "timer_start failed");
        self->held = call;
        return MH_PENDING;
    }
    if (strcmp(method, "busy") == 0) {
        struct timespec t;
        if (!one_int(params, &n) || n < 0) return fail(self, call, MH_ERR_INVALID_PARAMS, "busy expects [ms]");
        t.tv_sec = (time_t)(n / 1000);
        t.tv_nsec = (long)(n % 1000) * 1000000L;
        while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
        return respond_int(self, call, self->total);
    }
    if (strcmp(method, "release") == 0) {
        int released = release_held(self);
        return self->host->respond(call, released ? "true" : "false", released ? 4 : 5);
    }
    return fail(self, call, MH_ERR_INTERNAL, "unhandled method");
}

/* ---- Lifecycle ---------------------------------------------------------- */

static void *counter_init(const mh_init_info *info, mh_out *error) {
    if (FAILS_INIT) {
        write_text(info->host, error, "init refused on purpose (SWAP_FAIL_INIT)");
        return NULL;
    }
    counter *self = calloc(1, sizeof *self);
    if (!self) {
        write_text(info->host, error, "out of memory");
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    self->id = info->module_id;
    return self;
}

static int32_t counter_start(void *instance, mh_out *error) {
    counter *self = instance;
    if (FAILS_START) {
        say(self, "refusing to start");
        write_text(self->host, error, "start refused on purpose (SWAP_FAIL_START)");
        return MH_ERROR;
    }
    (void)error;
    say(self, "started");
    return MH_OK;
}

static void counter_stop(void *instance) {
    counter *self = instance;
    /* The host cancels the instance's timers at stop; forget ours. A held call is the
     * host's to fail if it is still open (a swap waits for it first). */
    self->held_timer = 0;
    say(self, "stopped");
}

static void counter_destroy(void *instance) {
    say(instance, "destroyed");
    free(instance);
}

static int32_t counter_export(void *instance, mh_out *state) {
    counter *self = instance;
    char text[96];
#if SWAP_VERSION == 1
    int n = snprintf(text, sizeof text, "{\"total\":%" PRId64 "}", self->total);
#else
    int n = snprintf(text, sizeof text, "{\"schema\":2,\"total\":%" PRId64 ",\"calls\":%" PRId64 "}", self->total, self->calls);
#endif
    if (n < 0 || (size_t)n >= sizeof text) return MH_ERROR;
    return self->host->out_write(state, text, (size_t)n);
}

/* The migration: reads the state of from_version into this version's fields. */
static int32_t counter_import(void *instance, const char *state, size_t state_len, const char *from_version, mh_out *error) {
    counter *self = instance;
    int64_t total, calls = 0, schema;
    char message[200];
    (void)state_len;
    if (FAILS_IMPORT) {
        write_text(self->host, error, "import refused on purpose (SWAP_FAIL_IMPORT)");
        return MH_ERROR;
    }
    if (strncmp(from_version, "1.", 2) == 0) {
        /* {"total":N} */
        if (member(state, "schema", &schema) || !member(state, "total", &total)) goto malformed;
    } else if (strncmp(from_version, "2.", 2) == 0) {
        /* {"schema":2,"total":N,"calls":M} */
        if (!member(state, "schema", &schema) || schema != 2 || !member(state, "total", &total) || !member(state, "calls", &calls))
            goto malformed;
    } else {
        snprintf(message, sizeof message, "cannot migrate state from version %s", from_version);
        write_text(self->host, error, message);
        return MH_ERROR;
    }
    self->total = total;
    self->calls = SWAP_VERSION == 2 ? calls : 0; /* from version 1: 0, it did not keep it; version 1 drops it */
    return MH_OK;
malformed:
    snprintf(message, sizeof message, "state from version %s is not in its format: %.100s", from_version, state);
    write_text(self->host, error, message);
    return MH_ERROR;
}

static const char *const counter_methods[] = { "add", "total", "calls", "version", "hold", "release", "busy", NULL };

static const mh_plugin counter_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = SWAP_ID, .version = SWAP_VERSION_STRING, .description = "hot swap test counter (" SWAP_BUILD ")",
    .methods = counter_methods,
    .flags = SWAP_FLAGS,
    .init = counter_init, .start = counter_start, .stop = counter_stop, .destroy = counter_destroy,
    .handle = counter_handle,
    .export_state = counter_export, .import_state = counter_import,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &counter_plugin; }
