/*
 * typed.c: a plugin made only of typed exports (ABI 1.1), one per type and shape, for the
 * host's libffi tests. No methods, no handle: the host converts JSON on both sides.
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I plugin-sdk/include typed.c
 *   -DTYPED_ID='"other"'                  another module id (default "typed")
 *   -DTYPED_BAD_SIGNATURE='"i128(i64)"'   adds an export "bad" with that signature
 */
#define _POSIX_C_SOURCE 200809L
#include "modhost.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef TYPED_ID
#define TYPED_ID "typed"
#endif

#define IDENTITY(T, name) static T name(T v) { return v; }
IDENTITY(bool, id_bool)
IDENTITY(int8_t, id_i8)
IDENTITY(int16_t, id_i16)
IDENTITY(int32_t, id_i32)
IDENTITY(int64_t, id_i64)
IDENTITY(uint8_t, id_u8)
IDENTITY(uint16_t, id_u16)
IDENTITY(uint32_t, id_u32)
IDENTITY(uint64_t, id_u64)
IDENTITY(float, id_f32)
IDENTITY(double, id_f64)

static const char *id_str(const char *s) { return s; } /* borrowed input, valid for the call */

/* A result in thread-local storage: valid until this thread calls again. */
static const char *greet(const char *name) {
    static _Thread_local char buffer[256];
    snprintf(buffer, sizeof buffer, "Hello, %s!", name);
    return buffer;
}

/* A result the plugin allocates and frees itself, through `release`. */
static uint64_t released;
static char *shout(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n + 2);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
    out[n] = '!';
    out[n + 1] = '\0';
    return out;
}
static void release_shout(void *result) { free(result); released++; }
static uint64_t releases(void) { return released; }

/* bytes: pointer and length. */
static uint64_t length(const uint8_t *data, size_t len) { (void)data; return len; }
static uint32_t checksum(const uint8_t *data, size_t len) {
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

static int64_t subtract(int64_t minuend, int64_t subtrahend) { return minuend - subtrahend; }
static double scale(double x, int32_t factor) { return x * factor; }
static uint64_t calls;
static void touch(void) { calls++; }
static uint64_t touched(void) { return calls; }
static const char *nothing(void) { return NULL; }
/* Blocks the module's thread for ms milliseconds, then returns ms (call timeouts). */
static uint32_t nap(uint32_t ms) {
    struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0) {}
    return ms;
}

static const char *const subtract_names[] = { "minuend", "subtrahend", NULL };
static const char *const scale_names[] = { "x", "factor", NULL };

#define EXPORT(n, f, sig, names, rel) \
    { .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_export), .name = n, \
      .fn = (void (*)(void))(f), .signature = sig, .param_names = names, .release = rel }
static const mh_export typed_exports[] = {
    EXPORT("id_bool", id_bool, "bool(bool)", NULL, NULL),
    EXPORT("id_i8", id_i8, "i8(i8)", NULL, NULL),
    EXPORT("id_i16", id_i16, "i16(i16)", NULL, NULL),
    EXPORT("id_i32", id_i32, "i32(i32)", NULL, NULL),
    EXPORT("id_i64", id_i64, "i64(i64)", NULL, NULL),
    EXPORT("id_u8", id_u8, "u8(u8)", NULL, NULL),
    EXPORT("id_u16", id_u16, "u16(u16)", NULL, NULL),
    EXPORT("id_u32", id_u32, "u32(u32)", NULL, NULL),
    EXPORT("id_u64", id_u64, "u64(u64)", NULL, NULL),
    EXPORT("id_f32", id_f32, "f32(f32)", NULL, NULL),
    EXPORT("id_f64", id_f64, "f64(f64)", NULL, NULL),
    EXPORT("id_str", id_str, "str(str)", NULL, NULL),
    EXPORT("greet", greet, "str(str)", NULL, NULL),
    EXPORT("shout", shout, "str(str)", NULL, release_shout),
    EXPORT("releases", releases, "u64()", NULL, NULL),
    EXPORT("length", length, "u64(bytes)", NULL, NULL),
    EXPORT("checksum", checksum, "u32(bytes)", NULL, NULL),
    EXPORT("subtract", subtract, "i64(i64, i64)", subtract_names, NULL),
    EXPORT("scale", scale, "f64(f64,i32)", scale_names, NULL),
    EXPORT("touch", touch, "void()", NULL, NULL),
    EXPORT("touched", touched, "u64()", NULL, NULL),
    EXPORT("nothing", nothing, "str()", NULL, NULL),
    EXPORT("nap", nap, "u32(u32)", NULL, NULL),
#ifdef TYPED_BAD_SIGNATURE
    EXPORT("bad", id_i64, TYPED_BAD_SIGNATURE, NULL, NULL),
#endif
};

static void *typed_init(const mh_init_info *info, mh_out *error) {
    (void)error;
    return (void *)info->ctx;
}

static const mh_plugin typed_plugin = {
    .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
    .id = TYPED_ID, .version = "1.0.0", .description = "typed exports of every type",
    .flags = MH_FLAG_UNLOADABLE, .init = typed_init,
    .exports = typed_exports, .export_count = sizeof typed_exports / sizeof typed_exports[0],
};

MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &typed_plugin; }
