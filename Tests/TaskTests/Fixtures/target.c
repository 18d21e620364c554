/*
 * target.c: module "target", what the task queue's end-to-end tests call. Built at test time
 * by QueueFixture (cc -shared -fPIC -I plugin-sdk/include -I Tests/ModHostTests/Fixtures).
 *
 * Methods (a "key" is any string; each method with one counts the calls per key):
 *   ok {...}                      -> its params, or null
 *   flaky {"key":k,"failures":n}  -> fails with plugin code 7 ("flaky failure", -32000 at the
 *                                    caller) for the first n calls of k, then {"calls":c}
 *   fail_with {"code":n}          -> fails with that code (-32601, -32602: not retryable)
 *   hold {"key":k}                -> pending until release of k (at most 64 held at once)
 *   release {"key":k}             -> completes the held call of k with {"released":k}; answers
 *                                    respond's return code (0, or -2 once it timed out), or
 *                                    null when k is not held
 *   held                          -> how many calls are held now
 *   late {"ms":n}                 -> answers "late" after n ms of real time, from a thread of
 *                                    its own (the module keeps serving meanwhile)
 *   calls {"key":k}               -> how many calls of k arrived
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>
#include "modhost.h"
#include "fixture_json.h"

#define MAX_KEYS 256
#define MAX_HELD 64

typedef struct counter { char key[64]; long long calls; } counter;
typedef struct held_call { char key[64]; mh_call *call; } held_call;

typedef struct target {
    const mh_host_api *host;
    mh_context *ctx;
    pthread_mutex_t lock;
    counter counters[MAX_KEYS];
    held_call held[MAX_HELD];
} target;

static int32_t fail(target *self, mh_call *call, int32_t code, const char *msg) {
    return self->host->fail(call, code, msg, strlen(msg), NULL, 0);
}

static int32_t respond_int(target *self, mh_call *call, long long v) {
    fx_buf b = {0};
    int32_t rc;
    fx_put_int(&b, v);
    rc = self->host->respond(call, b.p, b.len);
    free(b.p);
    return rc;
}

/* The key of params into out (NUL-terminated); 0 when absent or too long. */
static int read_key(const char *params, char *out) {
    const char *s;
    size_t n;
    if (!fx_string(fx_field(params, "key"), &s, &n) || n == 0 || n >= 64) return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

/* Counts a call of key; returns the count including this one. */
static long long count(target *self, const char *key, int add) {
    long long c = 0;
    pthread_mutex_lock(&self->lock);
    for (int i = 0; i < MAX_KEYS; i++) {
        if (self->counters[i].key[0] == '\0') {
            if (!add) break;
            strcpy(self->counters[i].key, key);
        }
        if (strcmp(self->counters[i].key, key) == 0) {
            c = (self->counters[i].calls += add);
            break;
        }
    }
    pthread_mutex_unlock(&self->lock);
    return c;
}

typedef struct late_reply { target *self; mh_call *call; long long ms; } late_reply;

static void *late_thread(void *user) {
    late_reply *l = user;
    struct timespec t = { (time_t)(l->ms / 1000), (long)(l->ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
    l->self->host->respond(l->call, "\"late\"", 6);
    free(l);
    return NULL;
}

static int32_t target_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                             const char *params, size_t params_len) {
    target *self = instance;
    char key[64];
    int has_key = params && read_key(params, key);
    (void)method_len;
    if (has_key && strcmp(method, "calls") != 0 && strcmp(method, "release") != 0) count(self, key, 1);
    if (strcmp(method, "ok") == 0) return params_len ? self->host->respond(call, params, params_len) : self->host->respond(call, "null", 4);
    if (strcmp(method, "calls") == 0) {
        if (!has_key) return fail(self, call, MH_ERR_INVALID_PARAMS, "calls expects {\"key\":\"k\"}");
        return respond_int(self, call, count(self, key, 0));
    }
    if (strcmp(method, "flaky") == 0) {
        long long failures, calls;
        if (!has_key || !fx_int(fx_field(params, "failures"), &failures))
            return fail(self, call, MH_ERR_INVALID_PARAMS, "flaky expects {\"key\":\"k\",\"failures\":n}");
        calls = count(self, key, 0);
        if (calls <= failures) return fail(self, call, 7, "flaky failure");
        fx_buf b = {0};
        fx_puts(&b, "{\"calls\":");
        fx_put_int(&b, calls);
        fx_puts(&b, "}");
        int32_t rc = self->host->respond(call, b.p, b.len);
        free(b.p);
        return rc;
    }
    if (strcmp(method, "fail_with") == 0) {
        long long code;
        if (!params || !fx_int(fx_field(params, "code"), &code)) return fail(self, call, MH_ERR_INVALID_PARAMS, "fail_with expects {\"code\":n}");
        return fail(self, call, (int32_t)code, "failed on purpose");
    }
    if (strcmp(method, "hold") == 0) {
        if (!has_key) return fail(self, call, MH_ERR_INVALID_PARAMS, "hold expects {\"key\":\"k\"}");
        pthread_mutex_lock(&self->lock);
        for (int i = 0; i < MAX_HELD; i++) {
            if (!self->held[i].call) {
                strcpy(self->held[i].key, key);
                self->held[i].call = call;
                pthread_mutex_unlock(&self->lock);
                return MH_PENDING;
            }
        }
        pthread_mutex_unlock(&self->lock);
        return fail(self, call, MH_ERR_INTERNAL, "too many held calls");
    }
    if (strcmp(method, "release") == 0) {
        mh_call *held = NULL;
        if (!has_key) return fail(self, call, MH_ERR_INVALID_PARAMS, "release expects {\"key\":\"k\"}");
        pthread_mutex_lock(&self->lock);
        for (int i = 0; i < MAX_HELD; i++) {
            if (self->held[i].call && strcmp(self->held[i].key, key) == 0) {
                held = self->held[i].call;
                self->held[i].call = NULL;
                break;
            }
        }
        pthread_mutex_unlock(&self->lock);
        if (!held) return self->host->respond(call, "null", 4);
        fx_buf b = {0};
        fx_puts(&b, "{\"released\":\"");
        fx_puts(&b, key);
        fx_puts(&b, "\"}");
        int32_t rc = self->host->respond(held, b.p, b.len);
        free(b.p);
        return respond_int(self, call, rc);
    }
    if (strcmp(method, "held") == 0) {
        long long n = 0;
        pthread_mutex_lock(&self->lock);
        for (int i = 0; i < MAX_HELD; i++) n += self->held[i].call != NULL;
        pthread_mutex_unlock(&self->lock);
        return respond_int(self, call, n);
    }
    if (strcmp(method, "late") == 0) {
        long long ms;
        pthread_t thread;
        late_reply *l;
        if (!params || !fx_int(fx_field(params, "ms"), &ms) || ms < 0) return fail(self, call, MH_ERR_INVALID_PARAMS, "late expects {\"ms\":n}");
        if (!(l = malloc(sizeof *l))) return fail(self, call, MH_ERR_INTERNAL, "out of memory");
        l->self = self;
        l->call = call;
        l->ms = ms;
        if (pthread_create(&thread, NULL, late_thread, l) != 0) {
            free(l);
            return fail(self, call, MH_ERR_INTERNAL, "pthread_create failed");
        }
        pthread_detach(thread);
        return MH_PENDING;
    }
    return fail(self, call, MH_ERR_METHOD_NOT_FOUND, "unhandled method");
}

static void *target_init(const mh_init_info *info, mh_out *error) {
    target *self = calloc(1, sizeof *self);
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    pthread_mutex_init(&self->lock, NULL);
    return self;
}

/* Never freed: a late thread may still hold the instance (the image stays mapped: flags 0). */
static void target_destroy(void *instance) { (void)instance; }

static const char *const target_methods[] = {
    "ok", "calls", "flaky", "fail_with", "hold", "release", "held", "late", NULL,
};

static const mh_plugin target_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = "target", .version = "1.0.0", .description = "what the task queue's tests call",
    .methods = target_methods, .flags = 0,
    .init = target_init, .destroy = target_destroy, .handle = target_handle,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &target_plugin; }
