/*
 * concurrent.c: module "conc", MH_FLAG_CONCURRENT, for what the flag means (modhost.h,
 * "Threading"): handle, typed exports, on_event, timer and reply callbacks may overlap;
 * lifecycle entries never overlap anything.
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include concurrent.c -lpthread
 *
 *   -DCONC_FLAGS=0   the same module without the flag (serial: nothing may overlap)
 *
 * Every entry below goes through one meeting point: it counts itself in, waits until n
 * entries are inside at once (or timeout_ms of real time passes), counts itself out, and
 * reports the most entries it saw inside at once (n when they met). The instance also keeps
 * the peak over its life.
 *   meet [n, timeout_ms]          (handle) -> the most seen
 *   meet_export(i32 n, i32 ms)    (typed export in exports_v2, takes the instance) -> the most seen
 *   event "conc.meet" [n, ms]     (on_event) -> publishes "conc.met" {"entry":"event","most":k}
 *   timer [n, ms]                 (handle) starts a 1 ms timer whose callback meets ->
 *                                 "conc.met" {"entry":"timer","most":k}; answers true at once
 *   reply [n, ms]                 (handle) calls conc.ping; the reply callback meets ->
 *                                 "conc.met" {"entry":"reply","most":k}; answers true at once
 *   peak -> the most entries ever inside at once;  ping -> "pong"
 *   cancel_busy [k, timeout_ms] (handle) starts a 1 ms repeating timer whose callback stays 30 ms,
 *                                 waits until k firings run at once (or timeout_ms), cancels it,
 *                                 and answers [firings that ran at once, firings still running
 *                                 when timer_cancel returned] (the second must be 0)
 * start, stop, export_state and destroy log "<entry>: <k> entries inside" (k must be 0).
 */
#define _POSIX_C_SOURCE 200809L
#include "modhost.h"
#include "fixture_json.h"
#include <pthread.h>
#include <time.h>

#ifndef CONC_FLAGS
#define CONC_FLAGS (MH_FLAG_CONCURRENT | MH_FLAG_UNLOADABLE)
#endif

typedef struct conc {
    const mh_host_api *host;
    mh_context *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inside, peak;
    unsigned round; /* counts meetings: a waiter returns once the round it entered in ends */
    int ticking, ticking_peak; /* cancel_busy's firings running now, and at most */
} conc;

/* Waits, inside, until n entries are inside at once or timeout_ms passes; returns the most seen. */
static int meet(conc *self, long long n, long long timeout_ms) {
    struct timespec due;
    int most;
    clock_gettime(CLOCK_MONOTONIC, &due);
    due.tv_sec += (time_t)(timeout_ms / 1000);
    due.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (due.tv_nsec >= 1000000000L) due.tv_sec++, due.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&self->mu);
    unsigned round = self->round;
    most = ++self->inside;
    if (self->inside > self->peak) self->peak = self->inside;
    if (self->inside >= n) {
        self->round++;
        pthread_cond_broadcast(&self->cv);
    } else {
        pthread_cond_broadcast(&self->cv); /* others waiting see one more inside */
    }
    while (self->round == round) {
        if (pthread_cond_timedwait(&self->cv, &self->mu, &due) != 0) break; /* timed out */
        if (self->inside > most) most = self->inside;
    }
    if (self->round != round && most < n) most = (int)n; /* met: n were inside together */
    self->inside--;
    pthread_mutex_unlock(&self->mu);
    return most;
}

static void publish_met(conc *self, const char *entry, int most) {
    char data[64];
    int len = snprintf(data, sizeof data, "{\"entry\":\"%s\",\"most\":%d}", entry, most);
    self->host->publish(self->ctx, "conc.met", 8, data, (size_t)len);
}

/* Lifecycle entries must run alone: they log how many entries are inside (0). */
static void log_inside(conc *self, const char *entry) {
    char line[64];
    pthread_mutex_lock(&self->mu);
    int inside = self->inside;
    pthread_mutex_unlock(&self->mu);
    int len = snprintf(line, sizeof line, "%s: %d entries inside", entry, inside);
    self->host->log(self->ctx, MH_LOG_INFO, line, (size_t)len);
}

typedef struct pending_meet { conc *self; long long n, ms; } pending_meet;

static void on_timer(void *user, uint64_t timer_id) {
    pending_meet *p = user;
    (void)timer_id;
    publish_met(p->self, "timer", meet(p->self, p->n, p->ms));
    free(p);
}

static void on_reply(void *user, int32_t error_code, const char *json, size_t json_len) {
    pending_meet *p = user;
    (void)error_code; (void)json; (void)json_len;
    publish_met(p->self, "reply", meet(p->self, p->n, p->ms));
    free(p);
}

static void busy_tick(void *user, uint64_t timer_id) {
    conc *self = user;
    struct timespec stay = { 0, 30000000L };
    (void)timer_id;
    pthread_mutex_lock(&self->mu);
    if (++self->ticking > self->ticking_peak) self->ticking_peak = self->ticking;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    while (nanosleep(&stay, &stay) != 0) {}
    pthread_mutex_lock(&self->mu);
    self->ticking--;
    pthread_mutex_unlock(&self->mu);
}

/* Overlapping firings of one timer, then timer_cancel: once it returns, none may be running. */
static int32_t cancel_busy(conc *self, mh_call *call, long long k, long long timeout_ms) {
    struct timespec due;
    char out[64];
    int overlapped, after, len;
    uint64_t id = self->host->timer_start(self->ctx, 1, 1, busy_tick, self);
    if (!id) return self->host->fail(call, MH_ERR_INTERNAL, "timer_start failed", 18, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &due);
    due.tv_sec += (time_t)(timeout_ms / 1000);
    due.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (due.tv_nsec >= 1000000000L) due.tv_sec++, due.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&self->mu);
    while (self->ticking_peak < k && pthread_cond_timedwait(&self->cv, &self->mu, &due) == 0) {}
    overlapped = self->ticking_peak;
    pthread_mutex_unlock(&self->mu);
    self->host->timer_cancel(self->ctx, id);
    pthread_mutex_lock(&self->mu);
    after = self->ticking;
    pthread_mutex_unlock(&self->mu);
    len = snprintf(out, sizeof out, "[%d,%d]", overlapped, after);
    return self->host->respond(call, out, (size_t)len);
}

static int32_t respond_int(conc *self, mh_call *call, long long v) {
    fx_buf b = {0};
    int32_t rc;
    fx_put_int(&b, v);
    rc = self->host->respond(call, b.p, b.len);
    free(b.p);
    return rc;
}

static int32_t conc_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                           const char *params, size_t params_len) {
    conc *self = instance;
    long long a[2];
    pending_meet *p;
    (void)method_len; (void)params_len;
    if (strcmp(method, "ping") == 0) return self->host->respond(call, "\"pong\"", 6);
    if (strcmp(method, "peak") == 0) {
        pthread_mutex_lock(&self->mu);
        int peak = self->peak;
        pthread_mutex_unlock(&self->mu);
        return respond_int(self, call, peak);
    }
    if (!fx_ints(params, a, 2)) return self->host->fail(call, MH_ERR_INVALID_PARAMS, "expected [n, timeout_ms]", 24, NULL, 0);
    if (strcmp(method, "meet") == 0) return respond_int(self, call, meet(self, a[0], a[1]));
    if (strcmp(method, "cancel_busy") == 0) return cancel_busy(self, call, a[0], a[1]);
    if (!(p = malloc(sizeof *p))) return self->host->fail(call, MH_ERR_INTERNAL, "out of memory", 13, NULL, 0);
    p->self = self;
    p->n = a[0];
    p->ms = a[1];
    if (strcmp(method, "timer") == 0) {
        if (!self->host->timer_start(self->ctx, 1, 0, on_timer, p)) return free(p), self->host->fail(call, MH_ERR_INTERNAL, "timer_start failed", 18, NULL, 0);
    } else if (self->host->call(self->ctx, "conc.ping", 9, NULL, 0, on_reply, p) != MH_OK) {
        free(p);
        return self->host->fail(call, MH_ERR_INTERNAL, "call failed", 11, NULL, 0);
    }
    return self->host->respond(call, "true", 4);
}

static void conc_on_event(void *instance, const char *topic, size_t topic_len, const char *data, size_t data_len) {
    conc *self = instance;
    long long a[2];
    (void)topic; (void)topic_len; (void)data_len;
    if (fx_ints(data, a, 2)) publish_met(self, "event", meet(self, a[0], a[1]));
}

static int32_t meet_export(void *instance, int32_t n, int32_t timeout_ms) {
    return meet(instance, n, timeout_ms);
}

static void *conc_init(const mh_init_info *info, mh_out *error) {
    conc *self = calloc(1, sizeof *self);
    pthread_condattr_t attr;
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    pthread_mutex_init(&self->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->cv, &attr);
    pthread_condattr_destroy(&attr);
    return self;
}

static int32_t conc_start(void *instance, mh_out *error) {
    (void)error;
    log_inside(instance, "start");
    return MH_OK;
}

static void conc_stop(void *instance) { log_inside(instance, "stop"); }

static int32_t conc_export_state(void *instance, mh_out *state) {
    conc *self = instance;
    log_inside(self, "export_state");
    return self->host->out_write(state, "{}", 2);
}

static void conc_destroy(void *instance) {
    conc *self = instance;
    log_inside(self, "destroy");
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    free(self);
}

static const char *const n_and_ms[] = { "n", "timeout_ms", NULL };
static const mh_export_v2 meet_entry = {
    MH_ABI_VERSION, sizeof(mh_export_v2), "meet_export", (void (*)(void))meet_export, "i32(i32,i32)", n_and_ms, NULL,
    MH_EXPORT_INSTANCE,
};
static const mh_export_v2 *const conc_exports[] = { &meet_entry };
static const char *const conc_methods[] = { "ping", "peak", "meet", "timer", "reply", "cancel_busy", NULL };
static const char *const conc_subscriptions[] = { "conc.meet", NULL };

static const mh_plugin conc_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = "conc", .version = "1.0.0", .description = "concurrency fixture",
    .methods = conc_methods, .subscriptions = conc_subscriptions, .flags = CONC_FLAGS,
    .init = conc_init, .start = conc_start, .stop = conc_stop, .destroy = conc_destroy,
    .handle = conc_handle, .on_event = conc_on_event, .export_state = conc_export_state,
    .exports_v2 = conc_exports, .exports_v2_count = 1,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &conc_plugin; }
