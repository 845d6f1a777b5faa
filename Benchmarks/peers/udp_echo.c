/* A plain blocking recvfrom/sendto UDP echo server (RFC 862): the yardstick for what one core can do with datagrams.
   Usage: udp_echo HOST PORT (IPv4). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)atoi(argv[2]));
    if (fd < 0 || inet_pton(AF_INET, argv[1], &address.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        perror("udp_echo");
        return 1;
    }
    static char buffer[65536];
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&peer, &length);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("recvfrom");
            return 1;
        }
        /* A reply that does not fit the socket buffer is dropped, as the network would. */
        sendto(fd, buffer, (size_t)n, 0, (struct sockaddr *)&peer, length);
    }
}
