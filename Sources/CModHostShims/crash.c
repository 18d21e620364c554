/*
 * The crash handler (see mh_crash.h): installed for the crash signals, it writes the line built
 * by crash_line.c and chains to the action installed before it.
 *
 * Everything reachable from `mh_shim_crash_handler` is async-signal-safe: atomics, loops over
 * fixed storage, write(2), sigaction, pthread_sigmask, nanosleep and raise. No malloc, no stdio,
 * no locks.
 */
#define _GNU_SOURCE
#include "crash_table.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

__thread mh_shim_call_frame *mh_shim_current_frame __attribute__((tls_model("initial-exec")));

static const int crash_signals[MH_SHIM_CRASH_SIGNAL_COUNT] = { SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP };
static struct sigaction previous_actions[MH_SHIM_CRASH_SIGNAL_COUNT];
static atomic_int installed;
/* Set by the first thread that reports (its thread id); later ones, or a fault inside the handler
 * on that thread, only chain. `reported` is set once its line is out. */
static atomic_long reporting;
static atomic_int reported;
/* The line is built here, not on the (alternate) stack the previous handler still needs. */
static char crash_line[3 * 4096];

/* ---- The handler ------------------------------------------------------------------------ */

static uintptr_t program_counter(void *context) {
    const ucontext_t *uc = context;
    if (!uc)
        return 0;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    return 0;
#endif
}

static void write_all(const char *bytes, size_t count) {
    while (count > 0) {
        ssize_t written = write(STDERR_FILENO, bytes, count);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return;
        bytes += written;
        count -= (size_t)written;
    }
}

/* Hands the signal to the action installed before ours (the Swift backtracer prints its
 * backtrace, resets its handlers and returns), then makes sure the process dies of it. */
static void chain(int signo, siginfo_t *info, void *context) {
    int index = 0;
    for (int i = 0; i < MH_SHIM_CRASH_SIGNAL_COUNT; i++) {
        sigaction(crash_signals[i], &previous_actions[i], NULL);
        if (crash_signals[i] == signo)
            index = i;
    }
    const struct sigaction *before = &previous_actions[index];
    if (before->sa_flags & SA_SIGINFO) {
        if (before->sa_sigaction)
            before->sa_sigaction(signo, info, context);
    } else if (before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN) {
        before->sa_handler(signo);
    }
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(signo, &fallback, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, signo);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    raise(signo);
    _exit(128 + signo); /* not reached: the default action ends the process */
}

static void mh_shim_crash_handler(int signo, siginfo_t *info, void *context) {
    int saved = errno;
    long self = syscall(SYS_gettid);
    long first = 0;
    if (atomic_compare_exchange_strong(&reporting, &first, self)) {
        size_t length = mh_shim_crash_describe(crash_line, sizeof crash_line, signo, info ? info->si_code : 0,
                                               info ? info->si_pid : 0, program_counter(context), mh_shim_current_frame);
        write_all(crash_line, length);
        atomic_store(&reported, 1);
    } else if (first != self) {
        /* Another thread crashed at the same moment: let its line out before this one's default
         * action can end the process (up to a second). */
        struct timespec pause = { 0, 1000000 };
        for (int i = 0; i < 1000 && !atomic_load(&reported); i++)
            nanosleep(&pause, NULL);
    }
    chain(signo, info, context);
    errno = saved;
}

int mh_shim_crash_install(const char *label) {
    mh_shim_crash_identify_host(label);
    if (atomic_exchange(&installed, 1))
        return 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = mh_shim_crash_handler;
    /* Like the Swift runtime's own handler: everything else blocked, the crash signals not (the
     * backtracer's memory reader relies on catching SIGSEGV and SIGBUS while it runs). */
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigfillset(&action.sa_mask);
    for (int i = 0; i < MH_SHIM_CRASH_SIGNAL_COUNT; i++)
        sigdelset(&action.sa_mask, crash_signals[i]);
    for (int i = 0; i < MH_SHIM_CRASH_SIGNAL_COUNT; i++) {
        if (sigaction(crash_signals[i], &action, &previous_actions[i]) != 0)
            return errno;
    }
    return 0;
}
