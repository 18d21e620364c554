/* Alternate signal stacks for host threads (see mh_altstack.h). */
#define _GNU_SOURCE
#include "mh_altstack.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_key_t stack_key;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;
static int stack_key_error;

static size_t guard_size(void) {
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

/* At thread exit: stop using the stack, then give it back. */
static void release_stack(void *mapping) {
    size_t guard = guard_size();
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && (char *)current.ss_sp == (char *)mapping + guard) {
        stack_t off = { .ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0 };
        sigaltstack(&off, NULL);
    }
    munmap(mapping, guard + MH_SHIM_ALTSTACK_SIZE);
}

static void make_stack_key(void) {
    stack_key_error = pthread_key_create(&stack_key, release_stack);
}

int mh_shim_thread_prepare(void) {
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE) && current.ss_size >= MH_SHIM_ALTSTACK_SIZE)
        return 0;
    pthread_once(&stack_key_once, make_stack_key);
    if (stack_key_error)
        return stack_key_error;
    size_t guard = guard_size();
    char *mapping = mmap(NULL, guard + MH_SHIM_ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED)
        return errno;
    if (mprotect(mapping, guard, PROT_NONE) != 0) {
        int error = errno;
        munmap(mapping, guard + MH_SHIM_ALTSTACK_SIZE);
        return error;
    }
    stack_t stack = { .ss_sp = mapping + guard, .ss_flags = 0, .ss_size = MH_SHIM_ALTSTACK_SIZE };
    if (sigaltstack(&stack, NULL) != 0) {
        int error = errno;
        munmap(mapping, guard + MH_SHIM_ALTSTACK_SIZE);
        return error;
    }
    pthread_setspecific(stack_key, mapping); /* the main thread never exits through it: kept */
    return 0;
}
