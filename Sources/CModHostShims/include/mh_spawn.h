/* posix_spawn file actions that are GNU extensions Swift's Glibc module does not import
 * (glibc 2.34 and later), for the test kit's ChildProcess. */
#ifndef MH_SPAWN_H
#define MH_SPAWN_H

#include <spawn.h>

/* posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` up.
 * 0, or an error number. */
int mh_shim_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/* posix_spawn_file_actions_addchdir_np: the child changes to `path` (copied). 0, or an error number. */
int mh_shim_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
