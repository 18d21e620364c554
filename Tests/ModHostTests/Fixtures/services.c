/*
 * services.c: module "svc", an ABI 1.2 plugin using what 1.2 added: call_v2 deadlines,
 * call_remaining_ms, call_client, notify_client, mh_init_info.flags (MH_INIT_SHADOW) and
 * typed exports in exports_v2, some taking the instance.
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include services.c
 *
 *   -DSVC_VERSION='"2.0.0"'   the version (default "1.0.0"), for a second build to swap to
 *
 * Methods:
 *   ping -> "pong"
 *   remaining -> call_remaining_ms of this call;  client -> call_client of this call
 *   forward {"method":"m.x","params":…,"deadline_ms":N} -> pending until the reply of
 *     call_v2 (host->call when deadline_ms is absent): {"code":c,"reply":<result or error>};
 *     -32602 when the host refuses the call (MH_ERROR, e.g. deadline_ms over 24 h)
 *   hold -> pending, kept (one at a time); release -> completes it with "released" and
 *     answers respond's return code; held_remaining / held_client -> call_remaining_ms /
 *     call_client of the held call (-2, MH_EXPIRED, once it timed out), null when none
 *   notify {"client":N,"topic":"t","data":…} -> what notify_client returned (0, -1, -3)
 *   shadow -> whether init saw MH_INIT_SHADOW;  total -> the instance's total
 * Typed exports (exports_v2): add i64(i64 n) and peek i64(), both MH_EXPORT_INSTANCE (the
 *   total lives in the instance: no global); twice i64(i64 n), without the instance.
 */
#define _POSIX_C_SOURCE 200809L
#include "modhost.h"
#include "fixture_json.h"

#ifndef SVC_VERSION
#define SVC_VERSION "1.0.0"
#endif

typedef struct svc {
    const mh_host_api *host;
    mh_context *ctx;
    int shadow;
    int64_t total;  /* entries are serialized: no lock */
    mh_call *held;
} svc;

static int32_t fail(svc *self, mh_call *call, int32_t code, const char *msg) {
    return self->host->fail(call, code, msg, strlen(msg), NULL, 0);
}

static int32_t respond_int(svc *self, mh_call *call, long long v) {
    fx_buf b = {0};
    int32_t rc;
    fx_put_int(&b, v);
    rc = self->host->respond(call, b.p, b.len);
    free(b.p);
    return rc;
}

typedef struct forwarded { svc *self; mh_call *call; } forwarded;

static void on_reply(void *user, int32_t error_code, const char *json, size_t json_len) {
    forwarded *f = user;
    fx_buf b = {0};
    fx_puts(&b, "{\"code\":");
    fx_put_int(&b, error_code);
    fx_puts(&b, ",\"reply\":");
    fx_put(&b, json, json_len);
    fx_puts(&b, "}");
    f->self->host->respond(f->call, b.p, b.len);
    free(b.p);
    free(f);
}

static int32_t forward(svc *self, mh_call *call, const char *params) {
    const char *method, *args = fx_field(params, "params"), *end = args ? fx_skip(args) : NULL;
    const char *deadline = fx_field(params, "deadline_ms");
    size_t method_len;
    long long deadline_ms = 0;
    forwarded *f;
    int32_t rc;
    if (!fx_string(fx_field(params, "method"), &method, &method_len) || (args && !end) ||
        (deadline && (!fx_int(deadline, &deadline_ms) || deadline_ms < 0)))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "forward expects {\"method\":…, \"params\":…, \"deadline_ms\":…}");
    if (deadline && !MH_HAS(self->host, call_v2)) return fail(self, call, MH_ERR_INTERNAL, "the host has no call_v2");
    if (!(f = malloc(sizeof *f))) return fail(self, call, MH_ERR_INTERNAL, "out of memory");
    f->self = self;
    f->call = call;
    rc = deadline ? self->host->call_v2(self->ctx, method, method_len, args, end ? (size_t)(end - args) : 0,
                                        (uint64_t)deadline_ms, on_reply, f)
                  : self->host->call(self->ctx, method, method_len, args, end ? (size_t)(end - args) : 0, on_reply, f);
    if (rc != MH_OK) {
        free(f);
        return fail(self, call, MH_ERR_INVALID_PARAMS, "the host refused the call (MH_ERROR)");
    }
    return MH_PENDING;
}

static int32_t notify(svc *self, mh_call *call, const char *params) {
    const char *topic, *data = fx_field(params, "data"), *end = data ? fx_skip(data) : NULL;
    size_t topic_len;
    long long client;
    if (!fx_int(fx_field(params, "client"), &client) || !fx_string(fx_field(params, "topic"), &topic, &topic_len) || (data && !end))
        return fail(self, call, MH_ERR_INVALID_PARAMS, "notify expects {\"client\":N, \"topic\":\"t\", \"data\":…}");
    return respond_int(self, call, self->host->notify_client(self->ctx, (uint64_t)client, topic, topic_len, data,
                                                             end ? (size_t)(end - data) : 0));
}

static int32_t svc_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                          const char *params, size_t params_len) {
    svc *self = instance;
    (void)method_len; (void)params_len;
    if (strcmp(method, "ping") == 0) return self->host->respond(call, "\"pong\"", 6);
    if (strcmp(method, "remaining") == 0) return respond_int(self, call, self->host->call_remaining_ms(call));
    if (strcmp(method, "client") == 0) return respond_int(self, call, self->host->call_client(call));
    if (strcmp(method, "forward") == 0) return forward(self, call, params);
    if (strcmp(method, "notify") == 0) return notify(self, call, params);
    if (strcmp(method, "shadow") == 0) return self->host->respond(call, self->shadow ? "true" : "false", self->shadow ? 4 : 5);
    if (strcmp(method, "total") == 0) return respond_int(self, call, self->total);
    if (strcmp(method, "hold") == 0) {
        if (self->held) return fail(self, call, MH_ERR_INTERNAL, "a call is held already");
        self->held = call;
        return MH_PENDING;
    }
    if (strcmp(method, "release") == 0) {
        mh_call *held = self->held;
        self->held = NULL;
        if (!held) return self->host->respond(call, "null", 4);
        return respond_int(self, call, self->host->respond(held, "\"released\"", 10));
    }
    if (strcmp(method, "held_remaining") == 0 || strcmp(method, "held_client") == 0) {
        if (!self->held) return self->host->respond(call, "null", 4);
        return respond_int(self, call, strcmp(method, "held_client") == 0 ? self->host->call_client(self->held)
                                                                           : self->host->call_remaining_ms(self->held));
    }
    return fail(self, call, MH_ERR_METHOD_NOT_FOUND, "unhandled method");
}

static void *svc_init(const mh_init_info *info, mh_out *error) {
    svc *self = calloc(1, sizeof *self);
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    self->shadow = MH_HAS(info, flags) && (info->flags & MH_INIT_SHADOW);
    return self;
}

static void svc_destroy(void *instance) { free(instance); }

/* The instance's state, with the instance: no global needed. */
static int64_t add(void *instance, int64_t n) {
    svc *self = instance;
    return self->total += n;
}
static int64_t peek(void *instance) { return ((svc *)instance)->total; }
static int64_t twice(int64_t n) { return 2 * n; }

static const char *const one_n[] = { "n", NULL };
static const mh_export_v2 add_export = {
    MH_ABI_VERSION, sizeof(mh_export_v2), "add", (void (*)(void))add, "i64(i64)", one_n, NULL, MH_EXPORT_INSTANCE,
};
static const mh_export_v2 peek_export = {
    MH_ABI_VERSION, sizeof(mh_export_v2), "peek", (void (*)(void))peek, "i64()", NULL, NULL, MH_EXPORT_INSTANCE,
};
static const mh_export_v2 twice_export = {
    MH_ABI_VERSION, sizeof(mh_export_v2), "twice", (void (*)(void))twice, "i64(i64)", one_n, NULL, 0,
};
static const mh_export_v2 *const svc_exports[] = { &add_export, &peek_export, &twice_export };

static const char *const svc_methods[] = {
    "ping", "remaining", "client", "forward", "notify", "shadow", "total",
    "hold", "release", "held_remaining", "held_client", NULL,
};

static const mh_plugin svc_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = "svc", .version = SVC_VERSION, .description = "ABI 1.2 services fixture",
    .methods = svc_methods, .flags = MH_FLAG_UNLOADABLE,
    .init = svc_init, .destroy = svc_destroy, .handle = svc_handle,
    .exports_v2 = svc_exports, .exports_v2_count = sizeof svc_exports / sizeof svc_exports[0],
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &svc_plugin; }
