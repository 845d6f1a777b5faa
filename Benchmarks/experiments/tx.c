// Sending-side experiment for issue 15: read + hash + send (what netconsole send does), sendfile with or without a
// hash over a mapping of the file, or send from the mapping. Build: gcc -O2 -o tx tx.c -lcrypto.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <openssl/sha.h>
// usage: tx MODE PORT FILE   MODE: readsend | sendfile | sendfilehash | mmapsend
int main(int argc, char **argv) {
    const char *mode = argv[1]; int port = atoi(argv[2]);
    int fd = open(argv[3], O_RDONLY); struct stat st; fstat(fd, &st); long size = st.st_size;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}; a.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(c, (void*)&a, sizeof a)) { perror("connect"); return 1; }
    SHA256_CTX ctx; SHA256_Init(&ctx); long sent = 0; size_t chunk = 1 << 20;
    if (!strcmp(mode, "readsend")) {
        unsigned char *buf = malloc(chunk);
        for (;;) { ssize_t n = read(fd, buf, chunk); if (n <= 0) break; SHA256_Update(&ctx, buf, n);
            for (ssize_t o = 0; o < n;) { ssize_t w = send(c, buf + o, n - o, 0); if (w <= 0) return 1; o += w; } sent += n; }
    } else if (!strncmp(mode, "sendfile", 8)) {
        int hash = strstr(mode, "hash") != 0; unsigned char *m = hash ? mmap(0, size, PROT_READ, MAP_SHARED, fd, 0) : 0;
        if (m) madvise(m, size, MADV_SEQUENTIAL);
        off_t off = 0;
        while (off < size) {
            long want = size - off < (long)chunk ? size - off : chunk;
            if (hash) SHA256_Update(&ctx, m + off, want);
            off_t start = off; long left = want;
            while (left > 0) { ssize_t w = sendfile(c, fd, &off, left); if (w <= 0) { perror("sendfile"); return 1; } left -= w; }
            sent += want; (void)start;
        }
    } else if (!strcmp(mode, "mmapsend")) {
        unsigned char *m = mmap(0, size, PROT_READ, MAP_SHARED, fd, 0); madvise(m, size, MADV_SEQUENTIAL);
        while (sent < size) { long want = size - sent < (long)chunk ? size - sent : chunk; SHA256_Update(&ctx, m + sent, want);
            for (long o = 0; o < want;) { ssize_t w = send(c, m + sent + o, want - o, 0); if (w <= 0) return 1; o += w; } sent += want; }
    }
    shutdown(c, SHUT_WR); char b[16]; while (read(c, b, 16) > 0) {}
    unsigned char d[32]; SHA256_Final(d, &ctx);
    struct rusage r; getrusage(RUSAGE_SELF, &r);
    fprintf(stderr, "%s sent %ld user %.3f sys %.3f\n", mode, sent, r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6, r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6);
    return 0;
}
