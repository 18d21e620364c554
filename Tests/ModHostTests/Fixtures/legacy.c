/*
 * legacy.c: a plugin exactly as a build against an older modhost.h would hand it over, for
 * the host's compatibility tests: a genuine ABI 1.0 or 1.1 descriptor whose last byte is the
 * last byte of a page, followed by a PROT_NONE page, so a host that reads one byte past
 * struct_size dies of SIGSEGV (padding the descriptor with zeros would hide that).
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include legacy.c
 *
 *   -DLEGACY_MINOR=0   (default) module "legacy10": abi_version 1.0, the 128-byte 1.0 mh_plugin
 *   -DLEGACY_MINOR=1   module "legacy11": abi_version 1.1, the 144-byte 1.1 mh_plugin with two
 *                      typed exports in a 1.1 exports array, itself also ending at a guard page
 *
 * The old layouts are spelled out here (legacy_plugin_1_0, legacy_plugin_1_1), checked
 * against the current header's offsets, and the plugin uses only ABI 1.0 host functions.
 * Methods: ping -> "pong"; sizes -> {"info":N,"host":M}, the struct_size of the mh_init_info
 * and the host table it got (a newer host's are larger: the plugin reads only its part).
 * Typed exports (1.1 only): sum i64(i64 a, i64 b), neg i64(i64 a).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include "modhost.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef LEGACY_MINOR
#define LEGACY_MINOR 0
#endif

/* mh_plugin as ABI 1.0 defined it: no exports. */
typedef struct legacy_plugin_1_0 {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *id;
    const char *version;
    const char *description;
    const char *const *requires;
    const char *const *subscriptions;
    const char *const *methods;
    uint64_t flags;
    void *(*init)(const mh_init_info *info, mh_out *error);
    int32_t (*start)(void *instance, mh_out *error);
    void (*stop)(void *instance);
    void (*destroy)(void *instance);
    int32_t (*handle)(void *instance, mh_call *call, const char *method, size_t method_len, const char *params,
                      size_t params_len);
    void (*on_event)(void *instance, const char *topic, size_t topic_len, const char *data, size_t data_len);
    int32_t (*export_state)(void *instance, mh_out *state);
    int32_t (*import_state)(void *instance, const char *state, size_t state_len, const char *from_version, mh_out *error);
} legacy_plugin_1_0;

/* mh_plugin as ABI 1.1 defined it: 1.0 plus the exports array. */
typedef struct legacy_plugin_1_1 {
    legacy_plugin_1_0 base;
    const mh_export *exports;
    size_t export_count;
} legacy_plugin_1_1;

_Static_assert(sizeof(legacy_plugin_1_0) == offsetof(mh_plugin, exports), "the 1.0 mh_plugin ends where 1.1 appended");
_Static_assert(sizeof(legacy_plugin_1_1) == offsetof(mh_plugin, exports_v2), "the 1.1 mh_plugin ends where 1.2 appended");
_Static_assert(sizeof(mh_export) == 48, "mh_export is frozen at its 1.1 layout");

typedef struct legacy {
    const mh_host_api *host;
    mh_context *ctx;
    uint32_t info_size, host_size;
} legacy;

static void *legacy_init(const mh_init_info *info, mh_out *error) {
    legacy *self = calloc(1, sizeof *self);
    if (!self) {
        info->host->out_write(error, "out of memory", 13);
        return NULL;
    }
    self->host = info->host;
    self->ctx = info->ctx;
    self->info_size = info->struct_size;
    self->host_size = info->host->struct_size;
    return self;
}

static void legacy_destroy(void *instance) { free(instance); }

static int32_t legacy_handle(void *instance, mh_call *call, const char *method, size_t method_len,
                             const char *params, size_t params_len) {
    legacy *self = instance;
    char text[64];
    (void)method_len; (void)params; (void)params_len;
    if (strcmp(method, "sizes") == 0) {
        int n = snprintf(text, sizeof text, "{\"info\":%u,\"host\":%u}", (unsigned)self->info_size, (unsigned)self->host_size);
        return self->host->respond(call, text, (size_t)n);
    }
    return self->host->respond(call, "\"pong\"", 6);
}

/* Copies `size` bytes to the very end of a fresh read-only page whose next page is PROT_NONE. */
static void *before_guard_page(const void *bytes, size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED || size > page || mprotect(pages + page, page, PROT_NONE) != 0) return NULL;
    memcpy(pages + page - size, bytes, size);
    if (mprotect(pages, page, PROT_READ) != 0) return NULL;
    return pages + page - size;
}

static const char *const legacy_methods[] = { "ping", "sizes", NULL };

#if LEGACY_MINOR == 0
static const legacy_plugin_1_0 descriptor = {
    .abi_version = 0x00010000u, .struct_size = sizeof(legacy_plugin_1_0),
    .id = "legacy10", .version = "1.0.0", .description = "a genuine ABI 1.0 descriptor before a guard page",
    .methods = legacy_methods, .flags = MH_FLAG_UNLOADABLE,
    .init = legacy_init, .destroy = legacy_destroy, .handle = legacy_handle,
};
#else
static int64_t sum(int64_t a, int64_t b) { return a + b; }
static int64_t neg(int64_t a) { return -a; }
static const char *const two_numbers[] = { "a", "b", NULL };
static const char *const one_number[] = { "a", NULL };
static const mh_export exports[] = {
    { 0x00010001u, sizeof(mh_export), "sum", (void (*)(void))sum, "i64(i64,i64)", two_numbers, NULL },
    { 0x00010001u, sizeof(mh_export), "neg", (void (*)(void))neg, "i64(i64)", one_number, NULL },
};
static legacy_plugin_1_1 descriptor = {
    .base = {
        .abi_version = 0x00010001u, .struct_size = sizeof(legacy_plugin_1_1),
        .id = "legacy11", .version = "1.1.0", .description = "a genuine ABI 1.1 descriptor before a guard page",
        .methods = legacy_methods, .flags = MH_FLAG_UNLOADABLE,
        .init = legacy_init, .destroy = legacy_destroy, .handle = legacy_handle,
    },
    .export_count = sizeof exports / sizeof exports[0],
};
#endif

MH_EXPORT const mh_plugin *mh_plugin_entry(void) {
#if LEGACY_MINOR != 0
    /* The exports array ends at a guard page too: its stride is sizeof(mh_export), frozen. */
    if (!descriptor.exports && !(descriptor.exports = before_guard_page(exports, sizeof exports))) return NULL;
#endif
    return before_guard_page(&descriptor, sizeof descriptor);
}
