/* malloc.h's malloc_trim, which Swift's Glibc module does not import. */
#ifndef MH_MALLOC_H
#define MH_MALLOC_H

#include <malloc.h>

/* Gives freed heap memory back to the system; returns 1 if some was released. */
static inline int mh_shim_malloc_trim(void) {
    return malloc_trim(0);
}

#endif
