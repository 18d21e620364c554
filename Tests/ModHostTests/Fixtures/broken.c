/*
 * broken.c: one plugin source, one defect per -D switch, for the loader's tests.
 * Without switches it is a working module "fixture" answering ping -> "pong".
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include [-D...] broken.c
 *
 *   -DMH_FIXTURE_NO_ENTRY            exports mh_fixture_entry instead of mh_plugin_entry
 *   -DMH_FIXTURE_NULL_DESCRIPTOR     mh_plugin_entry returns NULL
 *   -DMH_FIXTURE_ABI_MAJOR=2         abi_version 2.0 (with ..._ABI_MINOR=n: 2.n)
 *   -DMH_FIXTURE_ABI_MINOR=5         abi_version 1.5 (a newer minor: must load)
 *   -DMH_FIXTURE_STRUCT_SIZE=16      struct_size 16 (any value up to sizeof(mh_plugin)
 *                                    + 256; bytes past mh_plugin are zero)
 *   -DMH_FIXTURE_ID='"Bad Id!"'      the id ("fixture" by default); =NULL: no id
 *   -DMH_FIXTURE_REQUIRES='"nosuchmodule"'   requires list (comma list of strings)
 *   -DMH_FIXTURE_INIT_FAILS='"msg"'  init starts a timer and subscribes to "*" (left behind
 *                                    on purpose), writes msg to the error sink, returns NULL
 *   -DMH_FIXTURE_START_FAILS='"msg"' start writes msg to the error sink, returns MH_ERROR
 *   -DMH_FIXTURE_EXPORT_SIZE=56      one typed export "one" in the frozen exports array, its
 *                                    struct_size 56 (anything but sizeof(mh_export) is wrong)
 *   -DMH_FIXTURE_EXPORT_V2_SIZE=40   one typed export "one" in exports_v2, its struct_size 40
 *                                    (less than sizeof(mh_export_v2) is too small)
 *
 * It logs "destroyed <id>" from destroy, so a test can check that an instance whose
 * start failed is still destroyed.
 */
#include "modhost.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MH_FIXTURE_ID
#define MH_FIXTURE_ID "fixture"
#endif
#ifndef MH_FIXTURE_ABI_MAJOR
#define MH_FIXTURE_ABI_MAJOR MH_ABI_MAJOR
#endif
#ifndef MH_FIXTURE_ABI_MINOR
#define MH_FIXTURE_ABI_MINOR 0
#endif
#ifndef MH_FIXTURE_STRUCT_SIZE
#define MH_FIXTURE_STRUCT_SIZE sizeof(mh_plugin)
#endif

typedef struct fixture {
    const mh_host_api *host;
    mh_context *ctx;
} fixture;

#ifdef MH_FIXTURE_INIT_FAILS
static void fixture_never_called(void *user, uint64_t timer_id) { (void)user; (void)timer_id; abort(); }
#endif

static void *fixture_init(const mh_init_info *info, mh_out *error) {
#ifdef MH_FIXTURE_INIT_FAILS
    /* Leave activity behind, as a careless plugin might: the host must clean it up. */
    info->host->timer_start(info->ctx, 10, 0, fixture_never_called, NULL);
    info->host->subscribe(info->ctx, "*", 1);
    info->host->out_write(error, MH_FIXTURE_INIT_FAILS, strlen(MH_FIXTURE_INIT_FAILS));
    return NULL;
#else
    fixture *self = malloc(sizeof *self);
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    return self;
#endif
}

static int32_t fixture_start(void *instance, mh_out *error) {
    fixture *self = instance;
#ifdef MH_FIXTURE_START_FAILS
    self->host->out_write(error, MH_FIXTURE_START_FAILS, strlen(MH_FIXTURE_START_FAILS));
    return MH_ERROR;
#else
    (void)self; (void)error;
    return MH_OK;
#endif
}

static void fixture_destroy(void *instance) {
    fixture *self = instance;
    const char *id = MH_FIXTURE_ID;
    char line[128];
    int n = snprintf(line, sizeof line, "destroyed %s", id ? id : "(no id)");
    self->host->log(self->ctx, MH_LOG_INFO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    free(self);
}

static int32_t fixture_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                              const char *params, size_t params_len) {
    fixture *self = instance;
    (void)method; (void)method_len; (void)params; (void)params_len;
    return self->host->respond(call, "\"pong\"", 6); /* the only method is ping */
}

static const char *const fixture_methods[] = { "ping", NULL };
#ifdef MH_FIXTURE_REQUIRES
static const char *const fixture_requires[] = { MH_FIXTURE_REQUIRES, NULL };
#else
#define fixture_requires NULL
#endif

#if defined(MH_FIXTURE_EXPORT_SIZE) || defined(MH_FIXTURE_EXPORT_V2_SIZE)
static int64_t fixture_one(void) { return 1; }
#endif
#ifdef MH_FIXTURE_EXPORT_SIZE
static const mh_export fixture_exports[] = {
    { MH_ABI_VERSION, (uint32_t)(MH_FIXTURE_EXPORT_SIZE), "one", (void (*)(void))fixture_one, "i64()", NULL, NULL },
};
#endif
#ifdef MH_FIXTURE_EXPORT_V2_SIZE
static const mh_export_v2 fixture_export_v2 = {
    MH_ABI_VERSION, (uint32_t)(MH_FIXTURE_EXPORT_V2_SIZE), "one", (void (*)(void))fixture_one, "i64()", NULL, NULL, 0,
};
static const mh_export_v2 *const fixture_exports_v2[] = { &fixture_export_v2 };
#endif

/* The descriptor, followed by zeroed bytes so that a struct_size larger than this
 * build's mh_plugin (a plugin from a newer minor) is still backed by memory. */
static const struct {
    mh_plugin plugin;
    unsigned char newer_fields[256];
} fixture_descriptor = { .plugin = {
    .abi_version = ((uint32_t)(MH_FIXTURE_ABI_MAJOR) << 16) | (uint32_t)(MH_FIXTURE_ABI_MINOR),
    .struct_size = (uint32_t)(MH_FIXTURE_STRUCT_SIZE),
    .id = MH_FIXTURE_ID,
    .version = "1.0.0",
    .description = "loader test fixture",
    .requires = fixture_requires,
    .methods = fixture_methods,
    .flags = MH_FLAG_UNLOADABLE,
    .init = fixture_init,
    .start = fixture_start,
    .destroy = fixture_destroy,
    .handle = fixture_handle,
#ifdef MH_FIXTURE_EXPORT_SIZE
    .exports = fixture_exports, .export_count = 1,
#endif
#ifdef MH_FIXTURE_EXPORT_V2_SIZE
    .exports_v2 = fixture_exports_v2, .exports_v2_count = 1,
#endif
} };

#if defined(MH_FIXTURE_NO_ENTRY)
/* A plausible-looking export under the wrong name: the loader must not guess. */
MH_EXPORT const mh_plugin *mh_fixture_entry(void) { return &fixture_descriptor.plugin; }
#elif defined(MH_FIXTURE_NULL_DESCRIPTOR)
MH_EXPORT const mh_plugin *mh_plugin_entry(void) {
    (void)&fixture_descriptor; /* built, never returned */
    return NULL;
}
#else
MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &fixture_descriptor.plugin; }
#endif
