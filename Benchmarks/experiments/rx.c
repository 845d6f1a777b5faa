// Receiving-side experiment for issue 15 (files vs nc): how much CPU one 1 MiB-recv upload costs the receiver when it
// writes (write), receives into a mapping of the preallocated file (mmap), or splices socket -> pipe -> file (splice),
// each with or without SHA-256 (OpenSSL). Build: gcc -O2 -o rx rx.c -lcrypto. Numbers in BENCHMARKS.md (session 4).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <openssl/sha.h>
// usage: rx MODE PORT SIZE OUTFILE   MODE: write | mmap | writehash | mmaphash
int main(int argc, char **argv) {
    const char *mode = argv[1]; int port = atoi(argv[2]); long size = atol(argv[3]);
    int l = socket(AF_INET, SOCK_STREAM, 0); int one = 1; setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}; a.sin_addr.s_addr = htonl(0x7f000001);
    bind(l, (void*)&a, sizeof a); listen(l, 1); int c = accept(l, 0, 0);
    int fd = open(argv[4], O_RDWR | O_CREAT | O_TRUNC, 0600);
    int hash = strstr(mode, "hash") != 0; SHA256_CTX ctx; SHA256_Init(&ctx);
    long got = 0; size_t chunk = 1 << 20;

    if (strncmp(mode, "splice", 6) == 0) {
        int p[2]; pipe2(p, 0); fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
        long hashed = 0; long win = 8 << 20;
        for (;;) {
            ssize_t n = splice(c, 0, p[1], 0, 1 << 20, SPLICE_F_MOVE);
            if (n <= 0) break;
            long left = n;
            while (left > 0) { ssize_t w = splice(p[0], 0, fd, 0, left, SPLICE_F_MOVE); if (w <= 0) { perror("splice out"); return 1; } left -= w; }
            got += n;
            if (hash) while (got - hashed >= win) {
                unsigned char *m = mmap(0, win, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, hashed);
                SHA256_Update(&ctx, m, win); munmap(m, win); hashed += win;
            }
        }
        if (hash && got > hashed) { unsigned char *m = mmap(0, got - hashed, PROT_READ, MAP_SHARED, fd, hashed); SHA256_Update(&ctx, m, got - hashed); munmap(m, got-hashed);}
    } else
    if (strncmp(mode, "mmap", 4) == 0) {
        if (fallocate(fd, 0, 0, size) != 0) { perror("fallocate"); return 1; }
        unsigned char *m = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        while (got < size) {
            size_t want = size - got < (long)chunk ? size - got : chunk;
            ssize_t n = recv(c, m + got, want, 0);
            if (n <= 0) break;
            if (hash) SHA256_Update(&ctx, m + got, n);
            got += n;
        }
        munmap(m, size);
    } else {
        unsigned char *buf = malloc(chunk);
        for (;;) {
            ssize_t n = recv(c, buf, chunk, 0);
            if (n <= 0) break;
            if (hash) SHA256_Update(&ctx, buf, n);
            write(fd, buf, n); got += n;
        }
    }
    unsigned char d[32]; SHA256_Final(d, &ctx);
    struct rusage r; getrusage(RUSAGE_SELF, &r);
    fprintf(stderr, "%s got %ld user %.3f sys %.3f\n", mode, got, r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6, r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6);
    return 0;
}
