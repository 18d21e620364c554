/* accept4 and pipe2, GNU extensions Swift's Glibc module does not import: descriptors made
 * close-on-exec atomically, so a plugin that forks and execs never inherits a client's socket. */
#ifndef MH_SOCKET_H
#define MH_SOCKET_H

/* accept4(fd, NULL, NULL, SOCK_CLOEXEC): a new connection, or -1 with errno. */
int mh_shim_accept_cloexec(int fd);

/* pipe2(fds, O_CLOEXEC): 0, or -1 with errno. */
int mh_shim_pipe_cloexec(int fds[2]);

#endif
