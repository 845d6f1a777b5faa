#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux-only calls that Swift's Glibc module leaves out (they sit behind _GNU_SOURCE there).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
extern int pipe2(int fds[2], int flags);

#ifndef SYNC_FILE_RANGE_WRITE
#define SYNC_FILE_RANGE_WRITE 2
#endif
extern int sync_file_range(int fd, __off64_t offset, __off64_t count, unsigned int flags);

// O_TMPFILE and AT_EMPTY_PATH are GNU extensions; the values are the kernel's ABI.
#define CLINUX_O_TMPFILE 0x410000
#define CLINUX_AT_EMPTY_PATH 0x1000
#endif
