/*
 * CModHostShims: the host's (and the test kit's) small C helpers, for what Swift cannot reach
 * or must not do itself (system calls Glibc's module map leaves out, code that runs in a signal
 * handler).
 * Every symbol is prefixed mh_shim_ / MH_SHIM_. One header per concern, included here.
 */
#ifndef CMODHOSTSHIMS_H
#define CMODHOSTSHIMS_H

#include "mh_malloc.h"
#include "mh_timerfd.h"
#include "mh_xattr.h"
#include "mh_crash.h"
#include "mh_altstack.h"
#include "mh_socket.h"
#include "mh_rwlock.h"
#include "mh_handoff.h"
#include "mh_spawn.h"

#endif
