#define _GNU_SOURCE
#include "mh_handoff.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t mh_shim_write_nowait(int fd, const void *bytes, size_t count) {
    struct iovec vector = { (void *)bytes, count };
    ssize_t n;
    do {
        n = pwritev2(fd, &vector, 1, -1, RWF_NOWAIT);
    } while (n < 0 && errno == EINTR);
    return n;
}

int mh_shim_standby_create(int fd, int *wake) {
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) return -1;
    struct epoll_event watch = { .events = EPOLLONESHOT, .data.u64 = 0 };
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &watch) != 0) {
        close(epoll);
        return -1;
    }
    int event = eventfd(0, EFD_CLOEXEC);
    struct epoll_event end = { .events = EPOLLIN, .data.u64 = 1 };
    if (event < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, event, &end) != 0) {
        if (event >= 0) close(event);
        close(epoll);
        return -1;
    }
    *wake = event;
    return epoll;
}

int mh_shim_standby_arm(int epoll, int fd, int on) {
    struct epoll_event watch = { .events = EPOLLONESHOT | (on ? EPOLLIN | EPOLLRDHUP : 0), .data.u64 = 0 };
    return epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &watch);
}

void mh_shim_standby_wait(int epoll) {
    struct epoll_event event;
    while (epoll_wait(epoll, &event, 1, -1) < 0 && errno == EINTR) {}
}

void mh_shim_standby_end(int wake) {
    uint64_t one = 1;
    while (write(wake, &one, sizeof one) < 0 && errno == EINTR) {}
}

static __thread int defer_open;
static __thread void *defer_pending;

int mh_shim_defer_open(void) { return defer_open; }
void mh_shim_defer_set_open(int open) { defer_open = open; }
void *mh_shim_defer_pending(void) { return defer_pending; }
void mh_shim_defer_set_pending(void *mailbox) { defer_pending = mailbox; }
