/*
 * Alternate signal stacks for the host's threads. A thread that overflows its stack cannot run a
 * signal handler on that stack: without an alternate one the kernel kills the process silently,
 * and the crash line (mh_crash.h) never appears. Every thread the host creates calls
 * mh_shim_thread_prepare first; so does the main thread at start-up.
 */
#ifndef MH_ALTSTACK_H
#define MH_ALTSTACK_H

/* Usable bytes of each alternate stack; a PROT_NONE guard page sits below them. */
#define MH_SHIM_ALTSTACK_SIZE (64 * 1024)

/*
 * Gives the calling thread an alternate signal stack of MH_SHIM_ALTSTACK_SIZE bytes (mmap'd, with
 * a guard page), unless it already has one at least that large (a smaller one, such as the Swift
 * runtime's on the main thread, is replaced). The stack is disabled and unmapped when the thread
 * exits (a pthread key destructor). Returns 0, or an errno value (the thread then runs without).
 */
int mh_shim_thread_prepare(void);

#endif
