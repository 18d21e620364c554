/* Plain C functions for the typed-export (libffi) unit tests: not a plugin, no mh_plugin_entry.
 * The tests dlopen the library and dlsym each function by name. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "modhost.h"

/* One identity function per type. */
MH_EXPORT bool ffi_id_bool(bool v) { return v; }
MH_EXPORT int8_t ffi_id_i8(int8_t v) { return v; }
MH_EXPORT int16_t ffi_id_i16(int16_t v) { return v; }
MH_EXPORT int32_t ffi_id_i32(int32_t v) { return v; }
MH_EXPORT int64_t ffi_id_i64(int64_t v) { return v; }
MH_EXPORT uint8_t ffi_id_u8(uint8_t v) { return v; }
MH_EXPORT uint16_t ffi_id_u16(uint16_t v) { return v; }
MH_EXPORT uint32_t ffi_id_u32(uint32_t v) { return v; }
MH_EXPORT uint64_t ffi_id_u64(uint64_t v) { return v; }
MH_EXPORT float ffi_id_f32(float v) { return v; }
MH_EXPORT double ffi_id_f64(double v) { return v; }

/* str: copies the argument into a thread-local buffer (truncating past 4095 bytes). */
static _Thread_local char str_buffer[4096];
MH_EXPORT const char *ffi_id_str(const char *s) {
    size_t n = strlen(s);
    if (n >= sizeof str_buffer) n = sizeof str_buffer - 1;
    memcpy(str_buffer, s, n);
    str_buffer[n] = '\0';
    return str_buffer;
}

/* str: hands its argument back, which is borrowed for the call: the host must copy the result
 * before it frees the arguments. */
MH_EXPORT const char *ffi_echo_str(const char *s) { return s; }

/* The byte length of a str argument, to see exactly what arrived. */
MH_EXPORT uint64_t ffi_strlen(const char *s) { return (uint64_t)strlen(s); }

/* bytes: FNV-1a 64 of the data, and the length alone. */
MH_EXPORT uint64_t ffi_fnv1a(const uint8_t *data, size_t length) {
    uint64_t hash = 14695981039346656037ull;
    for (size_t i = 0; i < length; i++) {
        hash ^= data[i];
        hash *= 1099511628211ull;
    }
    return hash;
}
MH_EXPORT uint64_t ffi_length(const uint8_t *data, size_t length) { (void)data; return (uint64_t)length; }

/* Mixed parameters, to check that each lands in its place: bytes between two others. */
MH_EXPORT double ffi_mix(int8_t a, uint16_t b, const uint8_t *data, size_t length, double c, float d, bool e, const char *s) {
    double sum = (double)a + (double)b + (double)length + c + (double)d + (e ? 1000.0 : 0.0) + (double)strlen(s);
    for (size_t i = 0; i < length; i++) sum += data[i];
    return sum;
}

MH_EXPORT int64_t ffi_add(int64_t a, int64_t b) { return a + b; }
MH_EXPORT int32_t ffi_negate_i32(int32_t v) { return -v; }
MH_EXPORT int8_t ffi_minus_one_i8(void) { return -1; }
MH_EXPORT uint8_t ffi_max_u8(void) { return 255; }
MH_EXPORT bool ffi_not(bool v) { return !v; }

/* void, and a counter to see it ran. */
static int touches;
MH_EXPORT void ffi_touch(void) { touches++; }
MH_EXPORT int32_t ffi_touch_count(void) { return touches; }

/* Results the host must refuse or map. */
MH_EXPORT double ffi_infinity(void) { return HUGE_VAL; }
MH_EXPORT float ffi_nan_f32(void) { return NAN; }
MH_EXPORT const char *ffi_null_str(void) { return NULL; }
MH_EXPORT const char *ffi_bad_utf8(void) { return "ab\xff"; }
MH_EXPORT const char *ffi_escapes(void) { return "quote \" backslash \\ newline \n tab \t bell \a caf\xc3\xa9"; }

/* A malloc'd result and the release function that frees it, counting calls. */
static int releases;
MH_EXPORT const char *ffi_greet(const char *name) {
    size_t n = strlen(name);
    char *out = malloc(n + 7);
    if (!out) return NULL;
    memcpy(out, "hello ", 6);
    memcpy(out + 6, name, n + 1);
    return out;
}
MH_EXPORT const char *ffi_greet_bad_utf8(void) {
    char *out = malloc(3);
    if (!out) return NULL;
    out[0] = 'x'; out[1] = (char)0xC0; out[2] = '\0';
    return out;
}
MH_EXPORT void ffi_release(void *result) { releases++; free(result); }
MH_EXPORT int32_t ffi_release_count(void) { return releases; }
