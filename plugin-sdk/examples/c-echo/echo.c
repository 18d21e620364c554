/*
 * echo.c: the reference modhost plugin in plain C (ABI 1.2, see modhost.h). It also loads
 * into a 1.0 or 1.1 host, without its typed exports there (they are all in exports_v2,
 * which those hosts do not read; a plugin that must offer exports to a 1.1 host lists its
 * instance-free ones in the frozen exports array instead) and without deadlines.
 * Build with `make`: cc alone, -fvisibility=hidden; only mh_plugin_entry is exported.
 *
 * Methods (reached as "echo.<method>"):
 *   ping             -> "pong"
 *   echo  <any>      -> the params, byte for byte (also the benchmark's no-op)
 *   add   [a, b]     -> a + b (64-bit integers)
 *   count            -> increments "count" in the persistent store, returns it
 *   get_count        -> the stored "count" (0 if absent)
 *   later [ms]       -> "later", completed by a worker thread ~ms later (real time); fails
 *                       at once when the caller would stop waiting sooner (call_remaining_ms)
 *   announce <any>   -> publishes the params as event "echo.announced", returns true
 *   noisy            -> prints to stdout, returns "ok" (see handle_noisy)
 * Typed exports (plain C functions; the host converts JSON through libffi):
 *   sum      i64(i64 a, i64 b)       mean  f64(f64 a, f64 b)
 *   greeting str(str name)           fnv1a u32(bytes data: base64 in JSON)
 *   calls    u64()                   the ping/echo count: takes the instance (MH_EXPORT_INSTANCE)
 * Events: "echo.ping.*" is answered by publishing "echo.pong" with the same data.
 * Hot swap: the number of ping/echo calls is carried over as {"schema":1,"count":N}.
 */
#define _POSIX_C_SOURCE 200809L /* pthreads, clock_gettime, write under -std=c11 */
#include "modhost.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A string literal as the (pointer, length) pair the host API takes. */
#define LIT(s) s, sizeof(s) - 1

/* A `later` call waiting for its time, in a list sorted by due time. */
typedef struct later_job {
    struct later_job *next;
    mh_call *call;
    long long due_ns; /* CLOCK_MONOTONIC */
} later_job;

/* One instance: created in init, freed in destroy. No mutable globals. */
typedef struct echo {
    const mh_host_api *host;
    mh_context *ctx;
    uint64_t calls; /* ping/echo calls handled: the state carried across a hot swap */
    /* `later` completes calls from a worker thread that exists between start and
     * stop. It is joined in stop, never detached: this plugin is MH_FLAG_UNLOADABLE,
     * so no thread may still run code from this image once destroy returns. */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on a new job and on stop */
    pthread_t worker;
    int running, stopping;
    later_job *jobs;
} echo;

static void log_info(echo *self, const char *msg) {
    self->host->log(self->ctx, MH_LOG_INFO, msg, strlen(msg));
}

static int32_t fail(echo *self, mh_call *call, int32_t code, const char *msg) {
    return self->host->fail(call, code, msg, strlen(msg), NULL, 0);
}

static long long monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int32_t respond_int(echo *self, mh_call *call, long long v) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", v);
    return self->host->respond(call, buf, (size_t)n);
}

/* ---- A tiny parser: enough for [1, 2] and {"schema":1,"count":3} ------ */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Parses a JSON integer at *p (after whitespace) and advances *p. strtoll alone
 * would also accept "+1", " 1" or "0x1", so the first character is checked. */
static int parse_int(const char **p, long long *out) {
    const char *s = skip_ws(*p);
    char *end;
    if (*s != '-' && (*s < '0' || *s > '9')) return 0;
    errno = 0;
    *out = strtoll(s, &end, 10);
    if (end == s || errno == ERANGE || *end == '.' || *end == 'e' || *end == 'E') return 0;
    *p = end;
    return 1;
}

/* Parses params that must be exactly [i1, ..., in]: n JSON integers. */
static int parse_ints(const char *params, long long *out, int n) {
    const char *p = skip_ws(params);
    if (*p++ != '[') return 0;
    for (int i = 0; i < n; i++) {
        if (i > 0) { p = skip_ws(p); if (*p++ != ',') return 0; }
        if (!parse_int(&p, &out[i])) return 0;
    }
    p = skip_ws(p);
    return *p == ']' && *skip_ws(p + 1) == '\0';
}

/* Finds "name": <integer> in NUL-terminated JSON text. A lookup by name, not a
 * parser: good enough for state this plugin wrote itself. */
static int find_int(const char *json, const char *name, long long *out) {
    const char *p = strstr(json, name);
    if (!p || *(p = skip_ws(p + strlen(name))) != ':') return 0;
    p++;
    return parse_int(&p, out);
}

/* ---- Methods ------------------------------------------------------------ */

static int32_t handle_add(echo *self, mh_call *call, const char *params) {
    long long ab[2];
    if (!parse_ints(params, ab, 2))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "add expects [a, b] with two integers");
    if ((ab[1] > 0 && ab[0] > LLONG_MAX - ab[1]) || (ab[1] < 0 && ab[0] < LLONG_MIN - ab[1]))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "add: a + b overflows a 64-bit integer");
    return respond_int(self, call, ab[0] + ab[1]);
}

/* store_get hands the value to a callback; copy it out as a NUL-terminated string. */
static void copy_value(void *user, const char *key, size_t key_len, const char *value, size_t len) {
    (void)key; (void)key_len;
    char *buf = user; /* 32 bytes */
    if (len > 31) len = 31;
    memcpy(buf, value, len);
    buf[len] = '\0';
}

/* count / get_count: the value is stored as JSON number text under key "count".
 * Calls to one instance are serialized, so the read-modify-write needs no lock. */
static int32_t handle_count(echo *self, mh_call *call, int increment) {
    char buf[32] = "0";
    long long n;
    const char *p = buf;
    int32_t found = self->host->store_get(self->ctx, LIT("count"), copy_value, buf);
    if (found == MH_ERROR || !parse_int(&p, &n))
        return fail(self, call, MH_ERR_INTERNAL, "cannot read \"count\"");
    if (increment) {
        int len = snprintf(buf, sizeof buf, "%lld", ++n);
        if (self->host->store_put(self->ctx, LIT("count"), buf, (size_t)len) != MH_OK)
            return fail(self, call, MH_ERR_INTERNAL, "cannot write \"count\"");
    }
    return respond_int(self, call, n);
}

/* later [ms]: hand the call to the worker thread and return MH_PENDING. With a
 * short delay the worker may complete the call before handle has returned; the
 * host must accept either order, since no plugin can avoid that race. Real time
 * is used on purpose: this stands for outside work (a network reply), not a
 * schedule. Scheduled work would use host->timer_start and the host clock.
 * Every call has a deadline; a 1.2 host tells how much of it is left, so work
 * that cannot finish in time is refused instead of started (on an older host
 * MH_HAS is false and the call just times out). */
static int32_t handle_later(echo *self, mh_call *call, const char *params) {
    long long ms;
    later_job *job, **at;
    if (!parse_ints(params, &ms, 1) || ms < 0 || ms > 86400000)
        return fail(self, call, MH_ERR_INVALID_PARAMS, "later expects [ms], at most a day");
    if (MH_HAS(self->host, call_remaining_ms) && self->host->call_remaining_ms(call) < ms)
        return fail(self, call, MH_ERR_INVALID_PARAMS, "later: the caller's deadline comes before ms");
    if (!self->running || !(job = malloc(sizeof *job)))
        return fail(self, call, MH_ERR_INTERNAL, "later is unavailable");
    job->call = call;
    job->due_ns = monotonic_ns() + ms * 1000000LL;
    pthread_mutex_lock(&self->mu);
    for (at = &self->jobs; *at && (*at)->due_ns <= job->due_ns; at = &(*at)->next) {}
    job->next = *at;
    *at = job;
    pthread_cond_signal(&self->cv);
    pthread_mutex_unlock(&self->mu);
    return MH_PENDING;
}

static void *later_worker(void *arg) {
    echo *self = arg;
    pthread_mutex_lock(&self->mu);
    while (!self->stopping) {
        later_job *job = self->jobs;
        if (!job) { pthread_cond_wait(&self->cv, &self->mu); continue; }
        struct timespec due = { (time_t)(job->due_ns / 1000000000), (long)(job->due_ns % 1000000000) };
        if (pthread_cond_timedwait(&self->cv, &self->mu, &due) != ETIMEDOUT) continue;
        if (job != self->jobs || self->stopping) continue; /* the list changed: look again */
        self->jobs = job->next;
        pthread_mutex_unlock(&self->mu);
        self->host->respond(job->call, LIT("\"later\"")); /* from this thread: allowed */
        free(job);
        pthread_mutex_lock(&self->mu);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/* noisy: a misbehaving plugin writing to fd 1, through stdio and through write(2).
 * It exists for the host's test proving that such output goes to stderr and can
 * never corrupt the JSON-RPC channel. Real plugins should log with host->log. */
static int32_t handle_noisy(echo *self, mh_call *call) {
    static const char line[] = "echo: noisy via write(1)\n";
    printf("echo: noisy via printf\n");
    fflush(stdout);
    ssize_t written = write(1, line, sizeof line - 1);
    (void)written; /* nothing to do if it fails */
    return self->host->respond(call, LIT("\"ok\""));
}

static int32_t echo_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                           const char *params, size_t params_len) {
    echo *self = instance;
    (void)method_len;
    if (strcmp(method, "echo") == 0) { self->calls++; return self->host->respond(call, params, params_len); }
    if (strcmp(method, "ping") == 0) { self->calls++; return self->host->respond(call, LIT("\"pong\"")); }
    if (strcmp(method, "add") == 0) return handle_add(self, call, params);
    if (strcmp(method, "count") == 0) return handle_count(self, call, 1);
    if (strcmp(method, "get_count") == 0) return handle_count(self, call, 0);
    if (strcmp(method, "later") == 0) return handle_later(self, call, params);
    if (strcmp(method, "announce") == 0) {
        if (self->host->publish(self->ctx, LIT("echo.announced"), params, params_len) != MH_OK)
            return fail(self, call, MH_ERR_INTERNAL, "publish failed");
        return self->host->respond(call, LIT("true"));
    }
    if (strcmp(method, "noisy") == 0) return handle_noisy(self, call);
    /* The host answers methods not in the descriptor's list with -32601 itself. */
    return fail(self, call, MH_ERR_INTERNAL, "unhandled method");
}

/* Subscribed to "echo.ping.*" in the descriptor. */
static void echo_on_event(void *instance, const char *topic, size_t topic_len, const char *data, size_t data_len) {
    echo *self = instance;
    (void)topic; (void)topic_len;
    self->host->publish(self->ctx, LIT("echo.pong"), data, data_len);
}

/* ---- Lifecycle ---------------------------------------------------------- */

static void *echo_init(const mh_init_info *info, mh_out *error) {
    /* A 1.x host always fills every 1.0 field of info and host; a field or function
     * added by a later minor is used only when MH_HAS(info, field) or
     * MH_HAS(info->host, function) says the host's struct covers it. */
    echo *self = calloc(1, sizeof *self);
    pthread_condattr_t attr;
    if (!self) {
        info->host->out_write(error, LIT("echo: out of memory"));
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    pthread_mutex_init(&self->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* `due` times are monotonic */
    pthread_cond_init(&self->cv, &attr);
    pthread_condattr_destroy(&attr);
    log_info(self, "echo 1.0.0 initialised");
    return self;
}

/* start may run again after stop: a failed hot swap restarts the old instance. */
static int32_t echo_start(void *instance, mh_out *error) {
    echo *self = instance;
    self->stopping = 0;
    if (pthread_create(&self->worker, NULL, later_worker, self) != 0) {
        self->host->out_write(error, LIT("echo: cannot start the worker thread"));
        return MH_ERROR;
    }
    self->running = 1;
    log_info(self, "echo started");
    return MH_OK;
}

/* Joins the worker, then completes the `later` calls left: those already due with
 * their result, the others with an error rather than leaving them hanging.
 * (A hot swap first waits, bounded, for pending calls, so normally none remain.) */
static void echo_stop(void *instance) {
    echo *self = instance;
    if (!self->running) return;
    pthread_mutex_lock(&self->mu);
    self->stopping = 1;
    pthread_cond_signal(&self->cv);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->worker, NULL);
    self->running = 0;
    while (self->jobs) {
        later_job *job = self->jobs;
        self->jobs = job->next;
        if (job->due_ns <= monotonic_ns()) self->host->respond(job->call, LIT("\"later\""));
        else fail(self, job->call, MH_ERR_INTERNAL, "echo stopped before the call was due");
        free(job);
    }
}

static void echo_destroy(void *instance) {
    echo *self = instance;
    echo_stop(self); /* no-op when the host already stopped it */
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    free(self);
}

/* Called after stop on the old instance of a hot swap. */
static int32_t echo_export_state(void *instance, mh_out *state) {
    echo *self = instance;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "{\"schema\":1,\"count\":%llu}", (unsigned long long)self->calls);
    return self->host->out_write(state, buf, (size_t)n);
}

/* Called before start on the new instance, with the old instance's state. The
 * state names its own schema, so any from_version is accepted. A newer version
 * with another layout keeps reading the old schemas, migrating them:
 *     if (schema == 1)      self->calls = count;          (1.0.x: a plain counter)
 *     else if (schema == 2) ...read the schema-2 fields...
 *     else                  fail: state from an unknown, newer version */
static int32_t echo_import_state(void *instance, const char *state, size_t state_len,
                                 const char *from_version, mh_out *error) {
    echo *self = instance;
    char buf[128]; /* state is (pointer, length), not NUL-terminated: copy it */
    long long schema, count;
    (void)from_version;
    if (state_len < sizeof buf) {
        memcpy(buf, state, state_len);
        buf[state_len] = '\0';
        if (find_int(buf, "\"schema\"", &schema) && schema == 1 &&
            find_int(buf, "\"count\"", &count) && count >= 0) {
            self->calls = (uint64_t)count;
            return MH_OK;
        }
    }
    self->host->out_write(error, LIT("echo: expected state {\"schema\":1,\"count\":N}"));
    return MH_ERROR;
}

/* ---- The descriptor and the one exported symbol ------------------------ */

/* ---- Typed exports: plain C, no JSON in sight ------------------------- */

static int64_t sum(int64_t a, int64_t b) { return a + b; }
static double mean(double a, double b) { return (a + b) / 2; }

/* A str result is borrowed: the host copies it before this thread calls again. */
static const char *greeting(const char *name) {
    static _Thread_local char buffer[128];
    snprintf(buffer, sizeof buffer, "Hello, %s!", name);
    return buffer;
}

static uint32_t fnv1a(const uint8_t *data, size_t length) {
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < length; i++) hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

/* MH_EXPORT_INSTANCE: the host passes the instance first, so no global is needed. */
static uint64_t calls(void *instance) { return ((echo *)instance)->calls; }

/* exports_v2 (ABI 1.2) lists pointers to entries that carry their own size, so they
 * can grow; a 1.1 host does not read it (the 1.1 exports array, of frozen mh_export
 * entries, is for plugins that must offer typed exports to a 1.1 host too). */
static const char *const two_numbers[] = { "a", "b", NULL };
static const char *const one_name[] = { "name", NULL };
static const char *const one_data[] = { "data", NULL };
#define ECHO_EXPORT(fn, signature, params, flags)                                                      \
    static const mh_export_v2 export_##fn = { MH_ABI_VERSION, sizeof(mh_export_v2), #fn, (void (*)(void))fn, \
                                              signature, params, NULL, flags }
ECHO_EXPORT(sum, "i64(i64,i64)", two_numbers, 0);
ECHO_EXPORT(mean, "f64(f64,f64)", two_numbers, 0);
ECHO_EXPORT(greeting, "str(str)", one_name, 0);
ECHO_EXPORT(fnv1a, "u32(bytes)", one_data, 0);
ECHO_EXPORT(calls, "u64()", NULL, MH_EXPORT_INSTANCE);
static const mh_export_v2 *const echo_exports[] = {
    &export_sum, &export_mean, &export_greeting, &export_fnv1a, &export_calls,
};

static const char *const echo_methods[] = {
    "ping", "echo", "add", "count", "get_count", "later", "announce", "noisy", NULL,
};
static const char *const echo_subscriptions[] = { "echo.ping.*", NULL };

/* -DECHO_FLAGS=…: other descriptor flags (the benchmark's canary builds add MH_FLAG_MULTI_INSTANCE). */
#ifndef ECHO_FLAGS
#define ECHO_FLAGS MH_FLAG_UNLOADABLE
#endif

static const mh_plugin echo_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = "echo", .version = "1.0.0",
    .description = "Reference C plugin: echo, add, a stored counter, async completion, events",
    .methods = echo_methods, .subscriptions = echo_subscriptions,
    .flags = ECHO_FLAGS, /* plain C, and no thread outlives stop: may be dlclosed */
    .init = echo_init, .start = echo_start, .stop = echo_stop, .destroy = echo_destroy,
    .handle = echo_handle, .on_event = echo_on_event,
    .export_state = echo_export_state, .import_state = echo_import_state,
    .exports_v2 = echo_exports, .exports_v2_count = sizeof echo_exports / sizeof echo_exports[0],
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &echo_plugin; }
