/* sys/xattr.h's getters, which Swift's Glibc module does not import (for POSIX ACLs). */
#ifndef MH_XATTR_H
#define MH_XATTR_H

#include <sys/types.h>
#include <sys/xattr.h>

/* The value of extended attribute `name` of `path` itself (not a link's target), or -1/errno. */
static inline ssize_t mh_shim_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}

/* The value of extended attribute `name` of an open file, or -1/errno. */
static inline ssize_t mh_shim_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}

#endif
