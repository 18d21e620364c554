/*
 * spinner.c: keeps one core awake for `modhost-bench latency`'s second pass. It runs at
 * SCHED_IDLE, below every other thread, so any work that wakes takes its core at once, but the
 * core never goes idle (on a virtual machine an idle core halts, and waking a thread there costs
 * tens of µs, whoever's thread it is). Runs until killed.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>

int main(void) {
    struct sched_param param = { 0 };
    if (sched_setscheduler(0, SCHED_IDLE, &param) != 0) {
        perror("spinner: sched_setscheduler(SCHED_IDLE)");
        return 1;
    }
    for (volatile unsigned long n = 0;; n++) {}
}
