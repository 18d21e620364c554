/*
 * future.c: module "future", a plugin built against a newer minor than the host (ABI 1.3,
 * invented here by appending fields as a real 1.3 would), for the minor-version policy:
 * the host must load it, read only its own part of each struct, and ignore the rest; the
 * plugin must find the services of 1.3 absent (MH_HAS) and go on without them.
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include future.c
 *
 * What "1.3" appends (each filled with values a host must never act on):
 *   mh_plugin:      on_idle (a function that aborts if called), quota (all ones)
 *   mh_export_v2:   doc (a string), and an unknown flag bit (1 << 40)
 *   mh_host_api:    yield (the plugin checks MH_HAS and finds it absent on a 1.2 host)
 * Methods: ping -> "pong"; host -> {"abi":"1.2","call_v2":true,"yield":false,"flags":true}:
 *   the host table's version, whether it has call_v2 (1.2) and yield (1.3), and whether
 *   mh_init_info has flags (1.2).
 * Typed exports: triple i64(i64 n) in exports_v2 (a 1.3-sized entry); one i64() in the
 *   frozen exports array (exactly sizeof(mh_export)).
 */
#include "modhost.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- What a 1.3 header would add --------------------------------------- */

typedef struct future_plugin {
    mh_plugin base;                    /* 1.2 */
    int32_t (*on_idle)(void *instance); /* since 1.3 */
    uint64_t quota;                    /* since 1.3 */
} future_plugin;

typedef struct future_export {
    mh_export_v2 base;                 /* 1.2 */
    const char *doc;                   /* since 1.3 */
} future_export;

typedef struct future_host_api {
    uint32_t abi_version;
    uint32_t struct_size;
    unsigned char v1_2[sizeof(mh_host_api) - 8]; /* the 1.2 functions, in place */
    int32_t (*yield)(mh_context *ctx);           /* since 1.3 */
} future_host_api;
_Static_assert(offsetof(future_host_api, yield) == sizeof(mh_host_api), "1.3 appends after 1.2");

#define FUTURE_ABI_VERSION 0x00010003u

/* ---- The plugin ---------------------------------------------------------- */

typedef struct future {
    const mh_host_api *host;
    char report[160];
    size_t report_len;
} future;

static void *future_init(const mh_init_info *info, mh_out *error) {
    future *self = calloc(1, sizeof *self);
    const future_host_api *host = (const future_host_api *)info->host;
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    int n = snprintf(self->report, sizeof self->report, "{\"abi\":\"%u.%u\",\"call_v2\":%s,\"yield\":%s,\"flags\":%s}",
                     (unsigned)MH_ABI_MAJOR_OF(info->host->abi_version), (unsigned)MH_ABI_MINOR_OF(info->host->abi_version),
                     MH_HAS(info->host, call_v2) ? "true" : "false", MH_HAS(host, yield) ? "true" : "false",
                     MH_HAS(info, flags) ? "true" : "false");
    self->report_len = (size_t)n;
    return self;
}

static void future_destroy(void *instance) { free(instance); }

static int32_t future_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                             const char *params, size_t params_len) {
    future *self = instance;
    (void)method_len; (void)params; (void)params_len;
    if (strcmp(method, "host") == 0) return self->host->respond(call, self->report, self->report_len);
    return self->host->respond(call, "\"pong\"", 6);
}

static int32_t never_called(void *instance) {
    (void)instance;
    abort(); /* a 1.2 host does not know on_idle */
}

static int64_t triple(int64_t n) { return 3 * n; }
static int64_t one(void) { return 1; }

static const char *const one_n[] = { "n", NULL };
static const future_export triple_export = {
    .base = { FUTURE_ABI_VERSION, sizeof(future_export), "triple", (void (*)(void))triple, "i64(i64)", one_n, NULL,
              (uint64_t)1 << 40 },
    .doc = "three times n",
};
static const mh_export_v2 *const future_exports[] = { &triple_export.base };
static const mh_export frozen_exports[] = {
    { FUTURE_ABI_VERSION, sizeof(mh_export), "one", (void (*)(void))one, "i64()", NULL, NULL },
};

static const char *const future_methods[] = { "ping", "host", NULL };

static const future_plugin descriptor = {
    .base = {
        .abi_version = FUTURE_ABI_VERSION, .struct_size = sizeof(future_plugin),
        .id = "future", .version = "1.3.0", .description = "built against a newer minor than the host",
        .methods = future_methods, .flags = MH_FLAG_UNLOADABLE | ((uint64_t)1 << 40),
        .init = future_init, .destroy = future_destroy, .handle = future_handle,
        .exports = frozen_exports, .export_count = 1,
        .exports_v2 = future_exports, .exports_v2_count = 1,
    },
    .on_idle = never_called,
    .quota = ~(uint64_t)0,
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &descriptor.base; }
