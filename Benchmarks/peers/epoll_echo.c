/* A plain single-threaded epoll echo server: the yardstick for what one core can do.
   Usage: epoll_echo HOST PORT. Level-triggered; buffers what the peer does not take yet. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE 65536

struct conn {
    int fd;
    char *pending; /* unsent echo bytes */
    size_t pending_len, pending_cap;
};

static int epfd;

static void drop(struct conn *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c);
}

static void set_interest(struct conn *c, int want_write) {
    struct epoll_event ev = {.events = want_write ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s HOST PORT\n", argv[0]); return 2; }
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &addr.sin_addr);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1024) < 0) {
        perror("bind/listen");
        return 1;
    }
    epfd = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &lev);
    static char buf[READ_SIZE];
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (c->pending_len > 0) {
                ssize_t w = send(c->fd, c->pending, c->pending_len, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN) { drop(c); continue; }
                if (w > 0) {
                    memmove(c->pending, c->pending + w, c->pending_len - w);
                    c->pending_len -= w;
                }
                if (c->pending_len == 0) set_interest(c, 0);
                continue;
            }
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN)) { drop(c); continue; }
            if (r < 0) continue;
            ssize_t w = send(c->fd, buf, r, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) { drop(c); continue; }
            if (w < 0) w = 0;
            if (w < r) {
                size_t rest = r - w;
                if (c->pending_cap < rest) { c->pending = realloc(c->pending, rest); c->pending_cap = rest; }
                memcpy(c->pending, buf + w, rest);
                c->pending_len = rest;
                set_interest(c, 1);
            }
        }
    }
}
