/* What the idle one-at-a-time path needs to skip thread hand-offs (issue 17): a write that
 * never blocks, and epoll for the standby reader. */
#ifndef MH_HANDOFF_H
#define MH_HANDOFF_H

#include <stddef.h>
#include <sys/types.h>

/* pwritev2(fd, ..., RWF_NOWAIT): writes what fits now without blocking (pipes and sockets).
 * Returns the bytes written, or -1 with errno: EAGAIN (nothing fits now), EOPNOTSUPP (this
 * descriptor or kernel cannot), or the write's own error. */
ssize_t mh_shim_write_nowait(int fd, const void *bytes, size_t count);

/* An epoll instance watching `fd` (one-shot, disarmed) and an eventfd (level: once written,
 * every wait returns). Returns the epoll descriptor, or -1 (`fd` cannot be polled: a regular
 * file); `*wake` gets the eventfd. Both close-on-exec. */
int mh_shim_standby_create(int fd, int *wake);

/* Arms (`on` = 1: readable, hang-up or error wakes one waiter, once) or disarms (`on` = 0)
 * the watch on `fd`. 0, or -1 with errno. */
int mh_shim_standby_arm(int epoll, int fd, int on);

/* Waits until the armed `fd` is readable or `wake` was written. */
void mh_shim_standby_wait(int epoll);

/* Makes every wait on the standby return, now and later. */
void mh_shim_standby_end(int wake);

/* The calling thread's deferred run (`DeferredRun` in the host): whether it is open, and the
 * one mailbox whose job it took over (a retained object pointer, or NULL). Thread-local. */
int mh_shim_defer_open(void);
void mh_shim_defer_set_open(int open);
void *mh_shim_defer_pending(void);
void mh_shim_defer_set_pending(void *mailbox);

#endif
