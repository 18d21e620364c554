/* timerfd (sys/timerfd.h), which Swift's Glibc module does not import. */
#ifndef MH_TIMERFD_H
#define MH_TIMERFD_H

#include <sys/timerfd.h>
#include <time.h>

/* Constants, not macros: glibc defines these as enum members behind same-named macros,
 * which Swift does not import. */
static const int MH_SHIM_TFD_CLOEXEC = TFD_CLOEXEC;
static const int MH_SHIM_TFD_NONBLOCK = TFD_NONBLOCK;
static const int MH_SHIM_TFD_TIMER_ABSTIME = TFD_TIMER_ABSTIME;
static const int MH_SHIM_TFD_TIMER_CANCEL_ON_SET = TFD_TIMER_CANCEL_ON_SET;

static inline int mh_shim_timerfd_create(int clockid, int flags) {
    return timerfd_create(clockid, flags);
}

static inline int mh_shim_timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
                                          struct itimerspec *old_value) {
    return timerfd_settime(fd, flags, new_value, old_value);
}

#endif
