/*
 * The image table and the host's identity, which the crash line is made from (see mh_crash.h).
 * Registration runs at load time, on any thread; lookups are lock-free and async-signal-safe.
 */
#define _GNU_SOURCE
#include "crash_table.h"

#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic(struct mh_shim_crash_image *) images[MH_SHIM_CRASH_MAX_IMAGES];
static atomic_int image_count;
static atomic_int host_identified;
struct mh_shim_crash_host mh_shim_crash_host = { .label = "modhost" };

/* ---- Recording images (not in a signal handler) ---------------------------------------- */

struct range_search {
    uintptr_t base;
    const char *name;
    uintptr_t *start;
    uintptr_t *end;
    int *count;
    int main_program;
};

static int collect_ranges(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct range_search *search = data;
    if (!search->main_program
        && (info->dlpi_addr != search->base || strcmp(info->dlpi_name ? info->dlpi_name : "", search->name) != 0))
        return 0;
    int count = 0;
    for (int i = 0; i < info->dlpi_phnum && count < MH_SHIM_CRASH_MAX_RANGES; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD)
            continue;
        search->start[count] = info->dlpi_addr + header->p_vaddr;
        search->end[count] = info->dlpi_addr + header->p_vaddr + header->p_memsz;
        count++;
    }
    *search->count = count;
    return 1; /* the main program comes first; a plugin image is found once */
}

void mh_shim_crash_identify_host(const char *label) {
    if (atomic_exchange(&host_identified, 1))
        return;
    if (label) {
        strncpy(mh_shim_crash_host.label, label, sizeof mh_shim_crash_host.label - 1);
        mh_shim_crash_host.label[sizeof mh_shim_crash_host.label - 1] = 0;
    }
    ssize_t length = readlink("/proc/self/exe", mh_shim_crash_host.path, sizeof mh_shim_crash_host.path - 1);
    mh_shim_crash_host.path[length > 0 ? length : 0] = 0;
    struct range_search search = { 0, "", mh_shim_crash_host.start, mh_shim_crash_host.end, &mh_shim_crash_host.ranges, 1 };
    dl_iterate_phdr(collect_ranges, &search);
}

int32_t mh_shim_crash_register_image(void *dl_handle, const char *id, const char *version, const char *file) {
    struct link_map *map = NULL;
    if (!dl_handle || dlinfo(dl_handle, RTLD_DI_LINKMAP, &map) != 0 || !map)
        return -1;
    struct mh_shim_crash_image *entry = calloc(1, sizeof *entry);
    if (!entry)
        return -1;
    struct range_search search = { map->l_addr, map->l_name ? map->l_name : "", entry->start, entry->end, &entry->ranges, 0 };
    dl_iterate_phdr(collect_ranges, &search);
    entry->id = strdup(id ? id : "?");
    entry->version = strdup(version ? version : "?");
    entry->file = strdup(file ? file : "?");
    if (entry->ranges == 0 || !entry->id || !entry->version || !entry->file) {
        free((void *)entry->id);
        free((void *)entry->version);
        free((void *)entry->file);
        free(entry);
        return -1;
    }
    atomic_init(&entry->alive, 1);
    atomic_init(&entry->generation, 0);
    int index = atomic_fetch_add(&image_count, 1);
    if (index >= MH_SHIM_CRASH_MAX_IMAGES) {
        atomic_fetch_sub(&image_count, 1);
        free((void *)entry->id);
        free((void *)entry->version);
        free((void *)entry->file);
        free(entry);
        return -1;
    }
    atomic_store_explicit(&images[index], entry, memory_order_release);
    return index;
}

struct mh_shim_crash_image *mh_shim_crash_image_entry(int32_t index) {
    if (index < 0 || index >= MH_SHIM_CRASH_MAX_IMAGES)
        return NULL;
    return atomic_load_explicit(&images[index], memory_order_acquire);
}

void mh_shim_crash_set_generation(int32_t index, int64_t generation) {
    struct mh_shim_crash_image *entry = mh_shim_crash_image_entry(index);
    if (entry)
        atomic_store_explicit(&entry->generation, generation, memory_order_release);
}

void mh_shim_crash_image_unmapped(int32_t index) {
    struct mh_shim_crash_image *entry = mh_shim_crash_image_entry(index);
    if (entry)
        atomic_store_explicit(&entry->alive, 0, memory_order_release);
}

/* ---- Lookups (async-signal-safe) ---------------------------------------------------------- */

int mh_shim_crash_in_ranges(uintptr_t pc, const uintptr_t *start, const uintptr_t *end, int count) {
    for (int i = 0; i < count; i++)
        if (pc >= start[i] && pc < end[i])
            return 1;
    return 0;
}

/* The live plugin image holding `pc`, newest first (a dead image's addresses may be reused). */
const struct mh_shim_crash_image *mh_shim_crash_image_at(uintptr_t pc) {
    int count = atomic_load_explicit(&image_count, memory_order_acquire);
    if (count > MH_SHIM_CRASH_MAX_IMAGES)
        count = MH_SHIM_CRASH_MAX_IMAGES;
    for (int i = count - 1; i >= 0; i--) {
        const struct mh_shim_crash_image *entry = atomic_load_explicit(&images[i], memory_order_acquire);
        if (entry && atomic_load_explicit(&((struct mh_shim_crash_image *)entry)->alive, memory_order_acquire)
            && mh_shim_crash_in_ranges(pc, entry->start, entry->end, entry->ranges))
            return entry;
    }
    return NULL;
}
