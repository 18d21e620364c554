/*
 * fakeclock.c: an LD_PRELOAD library that moves the wall clock, and only the wall clock, of
 * the process it is loaded into, so a test can step CLOCK_REALTIME back (or forward) without
 * touching the machine's clock.
 *
 * The offset is a signed 64-bit count of milliseconds (native byte order) at the start of the
 * file named by MH_FAKECLOCK_FILE, mapped shared: the test rewrites those 8 bytes while the
 * process runs and the next reading moves. clock_gettime(CLOCK_REALTIME, CLOCK_REALTIME_COARSE),
 * gettimeofday and time add it; every other clock (CLOCK_MONOTONIC, CLOCK_BOOTTIME, …) is the
 * real one. Without the variable, or with an unreadable file, the offset is 0.
 *
 * The kernel knows nothing of this step: a TFD_TIMER_CANCEL_ON_SET timerfd does not fire
 * for it, so only a program that compares the wall clock with the monotonic one notices.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MH_FAKECLOCK_EXPORT __attribute__((visibility("default")))

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static clock_gettime_fn real_clock_gettime;
static volatile const int64_t *offset_ms;

static void setup(void) {
    /* POSIX's way to turn dlsym's void * into a function pointer without a cast ISO C frowns on. */
    void *symbol = dlsym(RTLD_NEXT, "clock_gettime");
    memcpy(&real_clock_gettime, &symbol, sizeof symbol);
    const char *path = getenv("MH_FAKECLOCK_FILE");
    if (!path) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    void *map = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map != MAP_FAILED) offset_ms = (volatile const int64_t *)map;
}

static int64_t offset(void) {
    return offset_ms ? *offset_ms : 0;
}

static void shift(struct timespec *ts) {
    int64_t ns = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset() * 1000000LL;
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000L;
        ts->tv_sec -= 1;
    }
}

MH_FAKECLOCK_EXPORT int clock_gettime(clockid_t clock, struct timespec *ts) {
    pthread_once(&once, setup);
    int result = real_clock_gettime(clock, ts);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) shift(ts);
    return result;
}

MH_FAKECLOCK_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    struct timespec ts;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    if (result == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
    }
    return result;
}

MH_FAKECLOCK_EXPORT time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
