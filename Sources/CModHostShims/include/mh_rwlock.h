/* A writer-preferring read-write lock (pthread_rwlockattr_setkind_np is a GNU extension Swift's
 * Glibc module does not import). */
#ifndef MH_RWLOCK_H
#define MH_RWLOCK_H

#include <pthread.h>

/* Initializes *lock so that a waiting writer goes before new readers (a steady stream of
 * readers never starves a writer); readers must not nest. 0, or an error number. */
int mh_shim_rwlock_init_writer_preferring(pthread_rwlock_t *lock);

#endif
