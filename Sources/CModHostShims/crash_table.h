/* Shared by crash.c, crash_line.c and crash_table.c (private to CModHostShims). */
#ifndef MH_CRASH_TABLE_H
#define MH_CRASH_TABLE_H

#include "mh_crash.h"

#include <stdatomic.h>
#include <stdint.h>

/* PT_LOAD segments recorded per image (a typical shared object has four or five). */
#define MH_SHIM_CRASH_MAX_RANGES 8

/* One mapped plugin image. Written once before it is published, never freed. */
struct mh_shim_crash_image {
    uintptr_t start[MH_SHIM_CRASH_MAX_RANGES];
    uintptr_t end[MH_SHIM_CRASH_MAX_RANGES];
    int ranges;
    atomic_int alive;
    atomic_llong generation;
    const char *id;
    const char *version;
    const char *file;
};

/* The host itself: what the line calls it, its executable, and the executable's ranges. */
struct mh_shim_crash_host {
    char label[64];
    char path[4096];
    uintptr_t start[MH_SHIM_CRASH_MAX_RANGES];
    uintptr_t end[MH_SHIM_CRASH_MAX_RANGES];
    int ranges;
};
extern struct mh_shim_crash_host mh_shim_crash_host;

/* The published entry at `index`, or NULL. */
struct mh_shim_crash_image *mh_shim_crash_image_entry(int32_t index);
/* The live image whose ranges hold `pc`, newest first, or NULL. Async-signal-safe. */
const struct mh_shim_crash_image *mh_shim_crash_image_at(uintptr_t pc);
/* Whether `pc` lies in one of `count` ranges. */
int mh_shim_crash_in_ranges(uintptr_t pc, const uintptr_t *start, const uintptr_t *end, int count);

#endif
