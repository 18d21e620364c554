/*
 * kv.c: a module holding many state entries, for the hot-swap benchmark
 * (Sources/modhost-bench) and its tests.
 * Build: cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include kv.c
 *
 * Entries are int64 values at indexes 0..n-1, persisted in the host store under "k<i>"
 * and loaded back in start (what a restart costs); export_state / import_state carry them
 * as a JSON array (what a swap costs).
 *   fill [n]  -> n: sets entry i = i for i < n, in memory and in the store
 *   get [i]   -> entry i;  count -> n
 */
#define _POSIX_C_SOURCE 200809L
#include "modhost.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kv {
    const mh_host_api *host;
    mh_context *ctx;
    long long *values;
    size_t count, capacity;
} kv;

static int reserve(kv *self, size_t n) {
    if (n <= self->capacity) return 1;
    long long *grown = realloc(self->values, n * sizeof *grown);
    if (!grown) return 0;
    self->values = grown;
    self->capacity = n;
    return 1;
}

static int set(kv *self, size_t index, long long value) {
    if (index >= self->capacity) {
        size_t wanted = self->capacity ? self->capacity * 2 : 16;
        if (!reserve(self, wanted > index ? wanted : index + 1)) return 0;
    }
    while (self->count <= index) self->values[self->count++] = 0;
    self->values[index] = value;
    return 1;
}

/* Parses "[n]" (one non-negative integer) from params. */
static int one_index(const char *params, long long *out) {
    char *end;
    const char *p = params;
    while (*p == ' ' || *p == '[') p++;
    *out = strtoll(p, &end, 10);
    return end != p && *out >= 0;
}

static void load_entry(void *user, const char *key, size_t key_len, const char *value, size_t value_len) {
    char k[32], v[32];
    if (key_len < 2 || key_len >= sizeof k || value_len >= sizeof v) return;
    memcpy(k, key + 1, key_len - 1); k[key_len - 1] = '\0';
    memcpy(v, value, value_len); v[value_len] = '\0';
    set(user, (size_t)strtoull(k, NULL, 10), strtoll(v, NULL, 10));
}

static void *kv_init(const mh_init_info *info, mh_out *error) {
    kv *self = calloc(1, sizeof *self);
    if (!self) { info->host->out_write(error, "out of memory", 13); return NULL; }
    self->host = info->host;
    self->ctx = info->ctx;
    return self;
}

static int32_t kv_start(void *instance, mh_out *error) {
    kv *self = instance;
    (void)error;
    if (self->count == 0) self->host->store_list(self->ctx, "k", 1, load_entry, self); /* a restart */
    return MH_OK;
}

static void kv_destroy(void *instance) {
    kv *self = instance;
    free(self->values);
    free(self);
}

static int32_t kv_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                         const char *params, size_t params_len) {
    kv *self = instance;
    char out[32];
    long long n;
    (void)method_len; (void)params_len;
    if (strcmp(method, "count") == 0) {
        return self->host->respond(call, out, (size_t)snprintf(out, sizeof out, "%zu", self->count));
    }
    if (!one_index(params, &n)) return self->host->fail(call, MH_ERR_INVALID_PARAMS, "expects [n]", 11, NULL, 0);
    if (strcmp(method, "get") == 0) {
        if ((size_t)n >= self->count) return self->host->fail(call, MH_ERR_INVALID_PARAMS, "no such entry", 13, NULL, 0);
        return self->host->respond(call, out, (size_t)snprintf(out, sizeof out, "%lld", self->values[n]));
    }
    /* fill */
    for (long long i = 0; i < n; i++) {
        char key[32], value[32];
        if (!set(self, (size_t)i, i)) return self->host->fail(call, MH_ERR_INTERNAL, "out of memory", 13, NULL, 0);
        self->host->store_put(self->ctx, key, (size_t)snprintf(key, sizeof key, "k%lld", i),
                              value, (size_t)snprintf(value, sizeof value, "%lld", i));
    }
    return self->host->respond(call, out, (size_t)snprintf(out, sizeof out, "%lld", n));
}

/* Writes v in decimal at out; returns the length. (snprintf costs ~100 ns a number, most of
 * a 10,000-entry export.) */
static size_t format_int(char *out, long long v) {
    char digits[24];
    size_t n = 0, len = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { digits[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = digits[--n];
    return len;
}

static int32_t kv_export(void *instance, mh_out *state) {
    kv *self = instance;
    /* One buffer, one out_write: every out_write is a call into the host. */
    size_t capacity = 2 + self->count * 21, len = 0;
    char *buffer = malloc(capacity);
    if (!buffer) return MH_ERROR;
    buffer[len++] = '[';
    for (size_t i = 0; i < self->count; i++) {
        if (i) buffer[len++] = ',';
        len += format_int(buffer + len, self->values[i]);
    }
    buffer[len++] = ']';
    self->host->out_write(state, buffer, len);
    free(buffer);
    return MH_OK;
}

static int32_t kv_import(void *instance, const char *state, size_t state_len, const char *from_version, mh_out *error) {
    kv *self = instance;
    const char *p = state, *end = state + state_len;
    (void)from_version;
    self->count = 0;
    while (p < end && (*p == '[' || *p == ' ')) p++;
    while (p < end && *p != ']') {
        char *next;
        long long value = strtoll(p, &next, 10);
        if (next == p) { self->host->out_write(error, "kv: malformed state", 19); return MH_ERROR; }
        if (!set(self, self->count, value)) { self->host->out_write(error, "out of memory", 13); return MH_ERROR; }
        p = next;
        while (p < end && (*p == ',' || *p == ' ')) p++;
    }
    return MH_OK;
}

static const char *const kv_methods[] = { "fill", "get", "count", NULL };
static const mh_plugin kv_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = "kv", .version = "1.0.0", .description = "many state entries (hot-swap benchmark)",
    .methods = kv_methods, .flags = MH_FLAG_UNLOADABLE,
    .init = kv_init, .start = kv_start, .destroy = kv_destroy, .handle = kv_handle,
    .export_state = kv_export, .import_state = kv_import,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &kv_plugin; }
