#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mh_socket.h"

int mh_shim_accept_cloexec(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

int mh_shim_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
