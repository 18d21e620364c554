/*
 * probe.c: a working module for the host's registry, channel, store, timer and
 * event tests. Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include
 *
 *   -DPROBE_ID='"probe2"'           the id (default "probe")
 *   -DPROBE_VERSION='"2.0.0"'       the version (default "1.0.0")
 *   -DPROBE_REQUIRES='"a","b >=1"'  requires, a comma list of strings (default none)
 *   -DPROBE_FLAGS=0                 descriptor flags (default MH_FLAG_UNLOADABLE)
 *   -DPROBE_AFTERLIFE               destroy leaves a thread behind that uses the host table
 *                                   after destroy returned (build with -DPROBE_FLAGS=0)
 *   -DPROBE_INIT_SLEEP_MS=300       init sleeps that long first (a load that takes a while)
 *   -DPROBE_FAIL_EVERY=20           every 20th seq call of an instance fails (-32000, "seq
 *                                   failed on purpose (PROBE_FAIL_EVERY)"): a version that
 *                                   errors on 5% of calls
 *   -DPROBE_SEQ_SLEEP_US=2000       seq blocks that long first (a slower version)
 *
 * Methods: ping -> "pong"; whoami -> the id; version -> the version;
 *   sleep [ms] -> ms, after blocking handle for ms; seq [n] -> n;
 *   never -> MH_PENDING, never completed (call timeout);
 *   call {"method":"m.x","params":…} -> what host->call brings back (result, or
 *     a failure with the error's code and message);
 *   timer [delay_ms, repeat_ms] -> timer id; each firing publishes "probe.timer"
 *     with {"id":timer_id,"now":now_ms};
 *   now -> host->now_ms; fired -> how many timer callbacks have run;
 *   store_put {"key":k,"value":v} -> true; store_get {"key":k} -> v or null;
 *   store_delete {"key":k} -> true; store_list {"prefix":p} -> [{"key":k,"value":v},…]
 *     (v must be a JSON string; its raw bytes are stored; no escapes in k or v);
 *   last_event -> topic of the last event received (subscribed to "probe.in.*"), or null;
 *   config -> the config section init received;
 *   fail_with {"code":n,"data":…} -> fails with that code, message "failed on purpose" and that
 *     data (raw; absent: none);
 *   blob [n] -> a JSON string of n 'x' characters (n + 2 bytes of result);
 *   burst [n, size] -> n, after publishing n events "probe.burst", each a string of size 'y's
 *     (logs "burst done" once they are published).
 *   tid -> the kernel id of the thread running handle.
 * Logs exactly "started <id>" from start and "stopped <id>" from stop.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid) for `tid` */
#include "modhost.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef PROBE_AFTERLIFE
#include <pthread.h>
#endif

#ifndef PROBE_ID
#define PROBE_ID "probe"
#endif
#ifndef PROBE_VERSION
#define PROBE_VERSION "1.0.0"
#endif
#ifndef PROBE_FLAGS
#define PROBE_FLAGS MH_FLAG_UNLOADABLE
#endif

typedef struct probe {
    const mh_host_api *host;
    mh_context *ctx;
    const char *id;
    char last_event[256]; /* "" until an event arrives; entries are serialized */
    char *config;         /* the config section init received, NUL-terminated */
    size_t config_len;
    long long fired;      /* timer callbacks run (entries are serialized) */
    long long seqs;       /* seq calls handled */
} probe;

/* ---- A growable output buffer ------------------------------------------ */

typedef struct buf { char *p; size_t len, cap; } buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        if (!(b->p = realloc(b->p, b->cap))) abort(); /* a test fixture: no recovery */
    }
    memcpy(b->p + b->len, s, n);
    b->p[b->len += n] = '\0';
}

static void put_str(buf *b, const char *s, size_t n) { /* as a JSON string */
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char esc[8];
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') put(b, "\\", 1);
        if (c < 0x20) put(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c));
        else put(b, s + i, 1);
    }
    put(b, "\"", 1);
}

/* Appends JSON string contents, decoded; \uXXXX is kept as written. */
static void put_unescaped(buf *b, const char *s, size_t n) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    put(b, "", 0);
    for (size_t i = 0; i < n; i++) {
        const char *e = s[i] == '\\' && i + 1 < n ? strchr(from, s[i + 1]) : NULL;
        if (e && *e) put(b, &to[e - from], 1), i++;
        else put(b, &s[i], 1);
    }
}

/* ---- Minimal JSON reading (input is NUL-terminated and well formed) ----- */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Returns the end of the JSON value at p, or NULL. */
static const char *skip_value(const char *p) {
    int depth = 0;
    do {
        p = ws(p);
        if (*p == '"') {
            for (p++; *p != '"'; p++)
                if (!*p || (*p == '\\' && !*++p)) return NULL;
            p++;
        } else if (*p == '[' || *p == '{') depth++, p++;
        else if (*p == ']' || *p == '}') { if (depth-- == 0) return NULL; p++; }
        else if (*p == ',' || *p == ':') { if (depth == 0) return NULL; p++; }
        else if (!*p) return NULL;
        else while (*p && !strchr(" \t\r\n,:[]{}\"", *p)) p++;
    } while (depth > 0);
    return p;
}

/* Returns the value of member `key` of the object at p, or NULL. */
static const char *field(const char *p, const char *key) {
    size_t n = strlen(key);
    if (*(p = ws(p)) != '{') return NULL;
    for (p++;;) {
        const char *k = ws(p), *end = skip_value(k);
        if (*k != '"' || !end || *(p = ws(end)) != ':') return NULL;
        p = ws(p + 1);
        if ((size_t)(end - k - 2) == n && memcmp(k + 1, key, n) == 0) return p;
        if (!(p = skip_value(p)) || *(p = ws(p)) != ',') return NULL;
        p++;
    }
}

/* The raw bytes between the quotes of the JSON string at p (escapes not decoded). */
static int string_at(const char *p, const char **s, size_t *n) {
    const char *end;
    if (!p || *p != '"' || !(end = skip_value(p))) return 0;
    *s = p + 1;
    *n = (size_t)(end - p - 2);
    return 1;
}

/* Parses params that must be [i1, …, in]: n non-negative integers. */
static int ints(const char *p, long long *out, int n) {
    if (*(p = ws(p)) != '[') return 0;
    for (int i = 0; i < n; i++) {
        char *end;
        p = ws(p + 1);
        if (*p < '0' || *p > '9') return 0;
        errno = 0;
        out[i] = strtoll(p, &end, 10);
        if (errno || *(p = ws(end)) != (i + 1 < n ? ',' : ']')) return 0;
    }
    return *ws(p + 1) == '\0';
}

/* ---- Methods ------------------------------------------------------------ */

static int32_t fail(probe *self, mh_call *call, int32_t code, const char *msg) {
    return self->host->fail(call, code, msg, strlen(msg), NULL, 0);
}

static int32_t respond_int(probe *self, mh_call *call, long long v) {
    char s[32];
    return self->host->respond(call, s, (size_t)snprintf(s, sizeof s, "%lld", v));
}

static int32_t respond_buf(probe *self, mh_call *call, buf *b) {
    int32_t rc = self->host->respond(call, b->p, b->len);
    free(b->p);
    return rc;
}

typedef struct forwarded { probe *self; mh_call *call; } forwarded;

/* The reply to `call`: pass the result on, or fail with the error's code and message. */
static void on_reply(void *user, int32_t error_code, const char *json, size_t json_len) {
    forwarded *f = user;
    if (error_code == 0) {
        f->self->host->respond(f->call, json, json_len);
    } else {
        buf copy = {0}, msg = {0};
        const char *code, *m = "";
        size_t n = 0;
        put(&copy, json, json_len); /* borrowed and not NUL-terminated: copy */
        if ((code = field(copy.p, "code"))) error_code = (int32_t)strtol(code, NULL, 10);
        string_at(field(copy.p, "message"), &m, &n);
        put_unescaped(&msg, m, n);
        f->self->host->fail(f->call, error_code, msg.p, msg.len, NULL, 0);
        free(copy.p);
        free(msg.p);
    }
    free(f);
}

static int32_t forward(probe *self, mh_call *call, const char *params) {
    const char *method, *args = field(params, "params"), *end = args ? skip_value(args) : NULL;
    size_t method_len;
    forwarded *f;
    if (!string_at(field(params, "method"), &method, &method_len) || (args && !end))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "call expects {\"method\":…, \"params\":…}");
    if (!(f = malloc(sizeof *f))) return fail(self, call, MH_ERR_INTERNAL, "out of memory");
    f->self = self;
    f->call = call;
    if (self->host->call(self->ctx, method, method_len, args, end ? (size_t)(end - args) : 0, on_reply, f) != MH_OK) {
        free(f);
        return fail(self, call, MH_ERR_INVALID_PARAMS, "host->call refused the arguments");
    }
    const char *sleep_ms = field(params, "sleepMs");
    if (sleep_ms) { /* keep this thread busy after the call was made */
        long long ms = strtoll(sleep_ms, NULL, 10);
        struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
        while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
    }
    return MH_PENDING;
}

static void on_timer(void *user, uint64_t timer_id) {
    probe *self = user;
    char data[64];
    self->fired++;
    int n = snprintf(data, sizeof data, "{\"id\":%llu,\"now\":%lld}", (unsigned long long)timer_id,
                     (long long)self->host->now_ms(self->ctx));
    self->host->publish(self->ctx, "probe.timer", 11, data, (size_t)n);
}

static void put_value(void *user, const char *key, size_t key_len, const char *value, size_t value_len) {
    (void)key; (void)key_len;
    put_str(user, value, value_len);
}

static void put_entry(void *user, const char *key, size_t key_len, const char *value, size_t value_len) {
    buf *b = user;
    put(b, b->len > 1 ? ",{\"key\":" : "{\"key\":", b->len > 1 ? 8 : 7);
    put_str(b, key, key_len);
    put(b, ",\"value\":", 9);
    put_str(b, value, value_len);
    put(b, "}", 1);
}

static int32_t store(probe *self, mh_call *call, const char *method, const char *params) {
    const char *key = NULL, *value = NULL;
    size_t key_len = 0, value_len = 0;
    buf b = {0};
    int32_t rc;
    if (strcmp(method, "store_list") == 0) {
        string_at(field(params, "prefix"), &key, &key_len); /* absent: "" lists all */
        put(&b, "[", 1);
        if (self->host->store_list(self->ctx, key ? key : "", key_len, put_entry, &b) < 0) {
            free(b.p);
            return fail(self, call, MH_ERR_INTERNAL, "store_list failed");
        }
        put(&b, "]", 1);
        return respond_buf(self, call, &b);
    }
    if (!string_at(field(params, "key"), &key, &key_len))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "expected {\"key\":\"…\"}");
    if (strcmp(method, "store_get") == 0) {
        rc = self->host->store_get(self->ctx, key, key_len, put_value, &b);
        if (rc == 0) put(&b, "null", 4);
        return rc < 0 ? fail(self, call, MH_ERR_INTERNAL, "store_get failed") : respond_buf(self, call, &b);
    }
    if (strcmp(method, "store_delete") == 0)
        rc = self->host->store_delete(self->ctx, key, key_len);
    else if (!string_at(field(params, "value"), &value, &value_len))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "expected {\"key\":\"…\",\"value\":\"…\"}");
    else
        rc = self->host->store_put(self->ctx, key, key_len, value, value_len);
    return rc == MH_OK ? self->host->respond(call, "true", 4) : fail(self, call, MH_ERR_INTERNAL, "store write failed");
}

static int32_t probe_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                            const char *params, size_t params_len) {
    probe *self = instance;
    long long a[2];
    buf b = {0};
    (void)method_len; (void)params_len;
    if (strcmp(method, "ping") == 0) return self->host->respond(call, "\"pong\"", 6);
    if (strcmp(method, "tid") == 0) return respond_int(self, call, (long long)syscall(SYS_gettid));
    if (strcmp(method, "whoami") == 0) return put_str(&b, self->id, strlen(self->id)), respond_buf(self, call, &b);
    if (strcmp(method, "version") == 0) return self->host->respond(call, "\"" PROBE_VERSION "\"", strlen(PROBE_VERSION) + 2);
    if (strcmp(method, "config") == 0) return self->host->respond(call, self->config, self->config_len);
    if (strcmp(method, "now") == 0) return respond_int(self, call, (long long)self->host->now_ms(self->ctx));
    if (strcmp(method, "fired") == 0) return respond_int(self, call, self->fired);
    if (strcmp(method, "never") == 0) return MH_PENDING; /* the host fails it with -32004 at its deadline */
    if (strcmp(method, "call") == 0) return forward(self, call, params);
    if (strncmp(method, "store_", 6) == 0) return store(self, call, method, params);
    if (strcmp(method, "last_event") == 0) {
        if (!self->last_event[0]) return self->host->respond(call, "null", 4);
        return put_str(&b, self->last_event, strlen(self->last_event)), respond_buf(self, call, &b);
    }
    if (strcmp(method, "seq") == 0 || strcmp(method, "sleep") == 0) {
        if (!ints(params, a, 1)) return fail(self, call, MH_ERR_INVALID_PARAMS, "expected [n]");
        if (strcmp(method, "sleep") == 0) { /* block this module's thread on purpose */
            struct timespec t = { (time_t)(a[0] / 1000), (long)(a[0] % 1000) * 1000000L };
            int32_t rc;
            while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
            if ((rc = respond_int(self, call, a[0])) != MH_OK) {
                char line[64];
                int n = snprintf(line, sizeof line, "sleep %lld: respond returned %d", a[0], (int)rc);
                self->host->log(self->ctx, MH_LOG_INFO, line, (size_t)n);
                /* Abandoned meanwhile? Then the context is dead too (stderr: the log would drop it). */
                fprintf(stderr, "sleep %lld: store_put returned %d\n", a[0], (int)self->host->store_put(self->ctx, "slept", 5, "1", 1));
                fflush(stderr);
            }
            return MH_OK;
        }
#ifdef PROBE_SEQ_SLEEP_US
        {
            struct timespec t = { 0, (long)PROBE_SEQ_SLEEP_US * 1000L };
            while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
        }
#endif
#ifdef PROBE_FAIL_EVERY
        if (++self->seqs % PROBE_FAIL_EVERY == 0) return fail(self, call, -32000, "seq failed on purpose (PROBE_FAIL_EVERY)");
#endif
        return respond_int(self, call, a[0]);
    }
    if (strcmp(method, "fail_with") == 0) {
        const char *code = field(params, "code"), *data = field(params, "data"), *end = data ? skip_value(data) : NULL;
        if (!code || (data && !end)) return fail(self, call, MH_ERR_INVALID_PARAMS, "expected {\"code\":n, \"data\":…}");
        self->host->fail(call, (int32_t)strtol(code, NULL, 10), "failed on purpose", 17, data, data ? (size_t)(end - data) : 0);
        return MH_OK;
    }
    if (strcmp(method, "blob") == 0 || strcmp(method, "burst") == 0) {
        int burst = strcmp(method, "burst") == 0;
        char *text;
        if (!ints(params, a, burst ? 2 : 1)) return fail(self, call, MH_ERR_INVALID_PARAMS, burst ? "expected [n, size]" : "expected [n]");
        size_t size = (size_t)a[burst ? 1 : 0];
        if (!(text = malloc(size + 2))) return fail(self, call, MH_ERR_INTERNAL, "out of memory");
        memset(text, burst ? 'y' : 'x', size + 2);
        text[0] = text[size + 1] = '"';
        if (!burst) {
            self->host->respond(call, text, size + 2); /* MH_ERROR: the host failed the call (too big) */
            free(text);
            return MH_OK;
        }
        for (long long i = 0; i < a[0]; i++) self->host->publish(self->ctx, "probe.burst", 11, text, size + 2);
        free(text);
        self->host->log(self->ctx, MH_LOG_INFO, "burst done", 10);
        return respond_int(self, call, a[0]);
    }
    if (strcmp(method, "timer") == 0) {
        uint64_t id;
        if (!ints(params, a, 2)) return fail(self, call, MH_ERR_INVALID_PARAMS, "expected [delay_ms, repeat_ms]");
        if (!(id = self->host->timer_start(self->ctx, (uint64_t)a[0], (uint64_t)a[1], on_timer, self)))
            return fail(self, call, MH_ERR_INTERNAL, "timer_start failed");
        return respond_int(self, call, (long long)id);
    }
    return fail(self, call, MH_ERR_INTERNAL, "unhandled method");
}

static void probe_on_event(void *instance, const char *topic, size_t topic_len, const char *data, size_t data_len) {
    probe *self = instance;
    (void)data; (void)data_len;
    if (topic_len >= sizeof self->last_event) topic_len = sizeof self->last_event - 1;
    memcpy(self->last_event, topic, topic_len);
    self->last_event[topic_len] = '\0';
}

/* ---- Lifecycle ---------------------------------------------------------- */

static void log_line(probe *self, const char *what) {
    char line[128];
    int n = snprintf(line, sizeof line, "%s %s", what, self->id);
    self->host->log(self->ctx, MH_LOG_INFO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void *probe_init(const mh_init_info *info, mh_out *error) {
#ifdef PROBE_INIT_SLEEP_MS
    struct timespec pause = { PROBE_INIT_SLEEP_MS / 1000, (PROBE_INIT_SLEEP_MS % 1000) * 1000000L };
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {}
#endif
    probe *self = calloc(1, sizeof *self);
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    self->id = info->module_id;
    if (!(self->config = malloc(info->config_len + 1))) abort();
    memcpy(self->config, info->config_json, info->config_len);
    self->config[self->config_len = info->config_len] = '\0';
    return self;
}

static int32_t probe_start(void *instance, mh_out *error) {
    (void)error;
    log_line(instance, "started");
    return MH_OK;
}

static void probe_stop(void *instance) { log_line(instance, "stopped"); }

#ifdef PROBE_AFTERLIFE
typedef struct afterlife { const mh_host_api *host; mh_context *ctx; } afterlife;

static void ignore_reply(void *user, int32_t code, const char *json, size_t len) {
    (void)user; (void)code; (void)json; (void)len;
}

static void ignore_timer(void *user, uint64_t id) { (void)user; (void)id; }

/* A plugin thread that outlives its instance: 200 ms after destroy it uses every host function
 * that takes the context, and reports what they returned on stderr. */
static void *afterlife_main(void *arg) {
    afterlife a = *(afterlife *)arg;
    struct timespec t = { 0, 200000000L };
    free(arg);
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
    a.host->log(a.ctx, MH_LOG_ERROR, "from beyond", 11);
    fprintf(stderr, "afterlife: publish=%d store_put=%d store_delete=%d timer_start=%llu now_ms=%lld subscribe=%d call=%d\n",
            a.host->publish(a.ctx, "probe.afterlife", 15, "1", 1), a.host->store_put(a.ctx, "k", 1, "v", 1),
            a.host->store_delete(a.ctx, "k", 1), (unsigned long long)a.host->timer_start(a.ctx, 1, 0, ignore_timer, NULL),
            (long long)a.host->now_ms(a.ctx), a.host->subscribe(a.ctx, "x", 1),
            a.host->call(a.ctx, "probe.ping", 10, NULL, 0, ignore_reply, NULL));
    fflush(stderr);
    return NULL;
}
#endif

static void probe_destroy(void *instance) {
#ifdef PROBE_AFTERLIFE
    pthread_t thread;
    afterlife *a = malloc(sizeof *a);
    if (!a) abort();
    a->host = ((probe *)instance)->host;
    a->ctx = ((probe *)instance)->ctx;
    if (pthread_create(&thread, NULL, afterlife_main, a) != 0) abort();
    pthread_detach(thread);
#endif
    free(((probe *)instance)->config);
    free(instance);
}

static const char *const probe_methods[] = {
    "ping", "whoami", "version", "sleep", "seq", "never", "call", "timer", "now",
    "store_put", "store_get", "store_list", "store_delete", "last_event", "config", "blob", "burst", "fail_with", "fired", "tid", NULL,
};
static const char *const probe_subscriptions[] = { "probe.in.*", NULL };
#ifdef PROBE_REQUIRES
static const char *const probe_requires[] = { PROBE_REQUIRES, NULL };
#else
#define probe_requires NULL
#endif

static const mh_plugin probe_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = PROBE_ID, .version = PROBE_VERSION, .description = "host test probe",
    .requires = probe_requires, .subscriptions = probe_subscriptions, .methods = probe_methods,
    .flags = PROBE_FLAGS,
    .init = probe_init, .start = probe_start, .stop = probe_stop, .destroy = probe_destroy,
    .handle = probe_handle, .on_event = probe_on_event,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &probe_plugin; }
